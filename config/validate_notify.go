package config

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// validateNotify checks the notifications and hooks sections.
func validateNotify(k checker, c *Config) {
	names := map[string]int{}
	for i, w := range c.Notifications.Webhooks {
		key := fmt.Sprintf("notifications.webhooks[%d]", i)
		if k.required(key+".name", w.Name, "it labels the webhook's logs and metrics") {
			if !isName(w.Name, 63) {
				k.errf(key+".name", "must be 1 to 63 letters, digits, '.', '_' or '-', got %s", quote(w.Name))
			} else if j, dup := names[w.Name]; dup {
				k.errf(key+".name", "%s is already used by notifications.webhooks[%d]", quote(w.Name), j)
			}
			names[w.Name] = i
		}
		validateWebhookURL(k, key+".url", w.URL)
		k.enum(key+".format", string(w.Format), string(WebhookJSON), string(WebhookSlack))
		for j, ev := range w.Events {
			k.enum(fmt.Sprintf("%s.events[%d]", key, j), ev, EventKinds...)
		}
		k.durRange(key+".timeout", w.Timeout, 100*time.Millisecond, 5*time.Minute)
		k.intRange(key+".max_attempts", w.MaxAttempts, 1, 100)
		if k.durRange(key+".backoff_initial", w.BackoffInitial, time.Millisecond, time.Hour) &&
			k.durRange(key+".backoff_max", w.BackoffMax, time.Millisecond, 24*time.Hour) && w.BackoffMax < w.BackoffInitial {
			k.errf(key+".backoff_max", "must be at least backoff_initial (%s), got %q", fmtDur(w.BackoffInitial), fmtDur(w.BackoffMax))
		}
		k.intRange(key+".queue", w.Queue, 1, 100000)
		for _, name := range slices.Sorted(maps.Keys(w.Headers)) {
			validateHeader(k, key+".headers."+name, name, w.Headers[name])
		}
	}
	for _, e := range c.Hooks.list() {
		h := e.hook
		if len(h.Command) == 0 || h.Command[0] == "" {
			k.errf(e.key+".command", "is required: a command line as a list, e.g. [/usr/local/bin/move-vip, --up]")
		}
		k.durRange(e.key+".timeout", h.Timeout, 100*time.Millisecond, time.Hour)
		if e.key == "hooks.pre_failover" {
			k.enum(e.key+".on_timeout", string(h.OnTimeout), string(HookTimeoutVeto), string(HookTimeoutAllow))
		} else if h.OnTimeout != "" {
			k.errf(e.key+".on_timeout", "applies to hooks.pre_failover only: the other hooks cannot stop anything")
		}
	}
}

// validateWebhookURL accepts an absolute http(s) URL. The value is never echoed: it may hold a
// token (Slack's do).
func validateWebhookURL(k checker, key, raw string) {
	if !k.required(key, raw, `such as "https://hooks.example.com/rsguard"`) {
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		k.errf(key, "is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		k.errf(key, `must start with "http://" or "https://"`)
	case u.Host == "":
		k.errf(key, "host is missing")
	case u.User != nil:
		k.errf(key, "must not contain user:password@; send credentials with headers (file or env)")
	}
}

func validateHeader(k checker, key, name string, hs HeaderSource) {
	if !isHeaderName(name) {
		k.errf(key, "is not a valid HTTP header name (letters, digits and -)")
	}
	switch {
	case hs.File == "" && hs.Env == "":
		k.errf(key, "needs file or env: header values are read at load, never written in the config")
	case hs.File != "" && hs.Env != "":
		k.errf(key+".env", "set either file or env, not both")
	case hs.Env != "" && !isEnvName(hs.Env):
		k.errf(key+".env", "must be an environment variable name such as RSGUARD_WEBHOOK_TOKEN, got %s", quote(hs.Env))
	}
}

// readNotify reads the header values and resolves the hook commands at load, so that a missing
// file, an unset variable or a command that is not there fails in validate-config rather than
// at the first failover.
func readNotify(c *Config, p *problems, sys system) {
	for i := range c.Notifications.Webhooks {
		w := &c.Notifications.Webhooks[i]
		for name, hs := range w.Headers {
			key := fmt.Sprintf("notifications.webhooks[%d].headers.%s", i, name)
			if (hs.File == "") != (hs.Env == "") && (hs.Env == "" || isEnvName(hs.Env)) {
				hs.Value = readSecret(p, sys, key+".file", hs.File, key+".env", hs.Env, "header "+name)
				w.Headers[name] = hs
			}
		}
	}
	for _, e := range c.Hooks.list() {
		if len(e.hook.Command) == 0 || e.hook.Command[0] == "" {
			continue
		}
		if _, err := sys.LookPath(e.hook.Command[0]); err != nil {
			p.wrap(e.key+".command", fmt.Sprintf("cannot run %s: %s", quote(e.hook.Command[0]), errText(err)), err)
		}
	}
}

// isHeaderName is an HTTP field name as people write them: letters, digits and inner '-'.
func isHeaderName(s string) bool {
	if s == "" || len(s) > 64 || strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
