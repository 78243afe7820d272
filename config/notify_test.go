package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const notifyYAML = `notifications:
  webhooks:
    - name: ops
      url: https://hooks.example.com/rsguard
      headers:
        Authorization: {file: webhook.token}
        X-Team: {env: RSGUARD_TEAM}
    - name: chat
      url: https://hooks.slack.com/services/T0/B0/XYZ
      format: slack
      events: [failover, switchover, resync_started]
      timeout: 2s
      max_attempts: 3
      backoff_initial: 500ms
      backoff_max: 10s
      queue: 20
hooks:
  pre_failover:
    command: [check-lag, --max, 10s]
    timeout: 5s
  post_failover:
    command: [scripts/move-vip.sh]
    dir: scripts
  on_resync:
    command: [/usr/local/bin/page, resync]
`

func notifySys() fakeSys {
	sys := newFakeSys()
	sys.files["/etc/rsguard/webhook.token"] = "Bearer t0ken\n"
	sys.env["RSGUARD_TEAM"] = "dba"
	sys.bins = map[string]string{"check-lag": "/usr/bin/check-lag", "/etc/rsguard/scripts/move-vip.sh": "/etc/rsguard/scripts/move-vip.sh",
		"/usr/local/bin/page": "/usr/local/bin/page"}
	return sys
}

func TestNotifyParsesWithDefaults(t *testing.T) {
	c := mustParse(t, baseYAML+notifyYAML, notifySys())
	ws := c.Notifications.Webhooks
	if len(ws) != 2 {
		t.Fatalf("webhooks %+v", ws)
	}
	ops, chat := ws[0], ws[1]
	if ops.Format != WebhookJSON || ops.Timeout != DefaultWebhookTimeout || ops.MaxAttempts != DefaultWebhookMaxAttempts ||
		ops.BackoffInitial != DefaultWebhookBackoffInitial || ops.BackoffMax != DefaultWebhookBackoffMax || ops.Queue != DefaultWebhookQueue || len(ops.Events) != 0 {
		t.Errorf("ops defaults: %+v", ops)
	}
	if got := ops.Headers["Authorization"]; got.File != "/etc/rsguard/webhook.token" || got.Value.Reveal() != "Bearer t0ken" {
		t.Errorf("Authorization header %+v (%q)", got, got.Value.Reveal())
	}
	if got := ops.Headers["X-Team"].Value.Reveal(); got != "dba" {
		t.Errorf("X-Team %q", got)
	}
	if chat.Format != WebhookSlack || len(chat.Events) != 3 || chat.Timeout != 2*time.Second || chat.MaxAttempts != 3 ||
		chat.BackoffInitial != 500*time.Millisecond || chat.BackoffMax != 10*time.Second || chat.Queue != 20 {
		t.Errorf("chat: %+v", chat)
	}
	h := c.Hooks
	if h.PreFailover == nil || h.PreFailover.OnTimeout != HookTimeoutVeto || h.PreFailover.Timeout != 5*time.Second || h.PreFailover.Command[0] != "check-lag" {
		t.Errorf("pre_failover %+v", h.PreFailover)
	}
	if h.PostFailover == nil || h.PostFailover.Command[0] != "/etc/rsguard/scripts/move-vip.sh" || h.PostFailover.Dir != "/etc/rsguard/scripts" ||
		h.PostFailover.Timeout != DefaultHookTimeout || h.PostFailover.OnTimeout != "" {
		t.Errorf("post_failover %+v", h.PostFailover)
	}
	if h.OnRollback != nil {
		t.Errorf("on_rollback %+v, want absent", h.OnRollback)
	}
	if s := fmt.Sprintf("%+v", c.Notifications); strings.Contains(s, "t0ken") {
		t.Errorf("header value printed: %s", s)
	}
	if y, err := c.YAML(); err != nil || strings.Contains(string(y), "t0ken") || strings.Contains(string(y), "dba") {
		t.Errorf("effective YAML leaks a header value or fails (%v):\n%s", err, y)
	}
}

func TestNotifyDefaultsEmpty(t *testing.T) {
	c := mustParse(t, baseYAML, newFakeSys())
	if len(c.Notifications.Webhooks) != 0 || len(c.Hooks.list()) != 0 {
		t.Errorf("notifications %+v hooks %+v", c.Notifications, c.Hooks)
	}
}

// Each bad value fails with its dotted key and its line.
func TestNotifyErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new string
		line     int
		key, msg string
	}{
		{"bad url scheme", "url: https://hooks.example.com/rsguard", "url: ftp://hooks.example.com/x", 4, "notifications.webhooks[0].url", `must start with "http://" or "https://"`},
		{"url with credentials", "url: https://hooks.example.com/rsguard", "url: https://u:p@hooks.example.com/x", 4, "notifications.webhooks[0].url", "user:password@"},
		{"unknown format", "format: slack", "format: teams", 10, "notifications.webhooks[1].format", `must be "json" or "slack", got "teams"`},
		{"unknown event", "events: [failover, switchover, resync_started]", "events: [failover, failvoer]", 11, "notifications.webhooks[1].events[1]", `(did you mean "failover"?)`},
		{"duplicate name", "name: chat", "name: ops", 8, "notifications.webhooks[1].name", `"ops" is already used by notifications.webhooks[0]`},
		{"negative timeout", "timeout: 2s", "timeout: -2s", 12, "notifications.webhooks[1].timeout", "must be at least 100ms"},
		{"negative backoff", "backoff_initial: 500ms", "backoff_initial: -1s", 14, "notifications.webhooks[1].backoff_initial", "must be at least 1ms"},
		{"backoff order", "backoff_max: 10s", "backoff_max: 100ms", 15, "notifications.webhooks[1].backoff_max", "at least backoff_initial (500ms)"},
		{"zero attempts", "max_attempts: 3", "max_attempts: 0", 13, "notifications.webhooks[1].max_attempts", "must be from 1 to 100"},
		{"header without source", "X-Team: {env: RSGUARD_TEAM}", "X-Team: {}", 7, "notifications.webhooks[0].headers.X-Team", "needs file or env"},
		{"header both sources", "X-Team: {env: RSGUARD_TEAM}", "X-Team: {env: RSGUARD_TEAM, file: x}", 7, "notifications.webhooks[0].headers.X-Team.env", "not both"},
		{"header env unset", "X-Team: {env: RSGUARD_TEAM}", "X-Team: {env: RSGUARD_NOPE}", 7, "notifications.webhooks[0].headers.X-Team.env", "RSGUARD_NOPE is not set"},
		{"header file missing", "Authorization: {file: webhook.token}", "Authorization: {file: nope.token}", 6, "notifications.webhooks[0].headers.Authorization.file", "cannot read header Authorization file"},
		{"literal header value", "X-Team: {env: RSGUARD_TEAM}", "X-Team: {value: dba}", 7, "notifications.webhooks[0].headers.X-Team.value", `unknown key "value"`},
		{"empty command", "command: [/usr/local/bin/page, resync]", "command: []", 25, "hooks.on_resync.command", "is required"},
		{"command not found", "command: [check-lag, --max, 10s]", "command: [chek-lag]", 19, "hooks.pre_failover.command", `cannot run "chek-lag"`},
		{"on_timeout on post hook", "    dir: scripts\n", "    dir: scripts\n    on_timeout: allow\n", 24, "hooks.post_failover.on_timeout", "pre_failover only"},
		{"bad on_timeout", "    timeout: 5s\n", "    timeout: 5s\n    on_timeout: maybe\n", 21, "hooks.pre_failover.on_timeout", `must be "veto" or "allow"`},
		{"negative hook timeout", "    timeout: 5s\n", "    timeout: -5s\n", 20, "hooks.pre_failover.timeout", "must be at least 100ms"},
		{"unknown hook", "  on_resync:", "  on_resynk:", 24, "hooks.on_resynk", `did you mean "on_resync"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := baseYAML + applyEdits(t, notifyYAML, edit{tc.old, tc.new})
			_, err := parseText(text, notifySys())
			if err == nil {
				t.Fatalf("no error; want %s: %s", tc.key, tc.msg)
			}
			line := strings.Count(baseYAML, "\n") + tc.line
			e := findErr(t, err, fmt.Sprintf("node.yaml:%d:", line), tc.key+": ")
			if !strings.Contains(e.Error(), tc.msg) {
				t.Errorf("got %v, want %q", e, tc.msg)
			}
		})
	}
}

// The URL is never echoed: it may carry a token.
func TestWebhookURLNotEchoed(t *testing.T) {
	text := baseYAML + applyEdits(t, notifyYAML, edit{"url: https://hooks.example.com/rsguard", "url: gopher://SECRETTOKEN"})
	_, err := parseText(text, notifySys())
	if err == nil || strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Errorf("got %v", err)
	}
}

// Notifications and hooks need a restart: a SIGHUP that changes them is refused with the key.
func TestNotifyNotReloadable(t *testing.T) {
	old := mustParse(t, baseYAML+notifyYAML, notifySys())
	next := mustParse(t, baseYAML+applyEdits(t, notifyYAML, edit{"    timeout: 5s\n", "    timeout: 9s\n"}), notifySys())
	_, _, err := old.ApplyPolicy(next)
	if err == nil || !strings.Contains(err.Error(), "hooks.pre_failover.timeout: cannot change on reload") {
		t.Errorf("got %v", err)
	}
}

// On disk: a bare name is found in PATH, a relative path is resolved against the file's
// directory and must be executable.
func TestHookCommandsResolveOnDisk(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "vip.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notexec.sh"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := applyEdits(t, baseYAML,
		edit{"  username: rsguard\n  password_file: /etc/rsguard/mongo.pass\n", ""},
		edit{"keyring_file: gossip.keyring", "insecure: true"})
	write := func(hooks string) string {
		p := filepath.Join(dir, "node.yaml")
		if err := os.WriteFile(p, []byte(base+hooks), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := Load(write("hooks:\n  pre_failover: {command: [sh, -c, 'exit 0']}\n  post_failover: {command: [./vip.sh]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Hooks.PostFailover.Command[0]; got != filepath.Join(dir, "vip.sh") {
		t.Errorf("post_failover command %q, want it resolved against the file's directory", got)
	}
	for _, tc := range []struct{ cmd, msg string }{
		{"[./notexec.sh]", "permission denied"},
		{"[./absent.sh]", "no such file"},
		{"[rsguard-no-such-command-anywhere]", "not found in $PATH"},
	} {
		_, err := Load(write("hooks:\n  on_rollback: {command: " + tc.cmd + "}\n"))
		if err == nil || !strings.Contains(err.Error(), "hooks.on_rollback.command: cannot run") || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: got %v, want %q", tc.cmd, err, tc.msg)
		}
	}
}
