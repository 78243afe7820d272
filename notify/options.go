package notify

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Format is the body a webhook receives.
type Format string

// The webhook formats.
const (
	// FormatJSON posts the Event as JSON.
	FormatJSON Format = "json"
	// FormatSlack posts a Slack incoming-webhook message: {"text": ..., "blocks": [...]}.
	// Mattermost, Rocket.Chat and Discord's /slack endpoint accept it too.
	FormatSlack Format = "slack"
)

// TimeoutPolicy is what a pre_failover hook that runs out of time means.
type TimeoutPolicy string

// The timeout policies.
const (
	// TimeoutVeto: a hook that did not answer in time vetoes (the default: a check that
	// cannot say yes says no).
	TimeoutVeto TimeoutPolicy = "veto"
	// TimeoutAllow: a hook that did not answer in time lets the failover go on.
	TimeoutAllow TimeoutPolicy = "allow"
)

// Defaults of the zero fields of Webhook and Hook.
const (
	DefaultWebhookTimeout = 5 * time.Second
	DefaultMaxAttempts    = 5
	DefaultBackoffInitial = time.Second
	DefaultBackoffMax     = time.Minute
	DefaultQueue          = 100
	DefaultHookTimeout    = 30 * time.Second
	// DefaultOutputTail is how much of a hook's combined output is kept and logged.
	DefaultOutputTail = 4 << 10
)

// Options configure a Notifier. The zero value notifies nobody.
type Options struct {
	// Set and Sidecar fill the events' fields of the same name when those are empty.
	Set     string
	Sidecar string
	// Webhooks receive events asynchronously, each from its own queue.
	Webhooks []Webhook
	// Hooks are the scripts run on failover, resync and rollback.
	Hooks Hooks
	// Client sends the webhook requests; default: a client with no overall timeout (each
	// attempt has the webhook's Timeout).
	Client *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Jitter returns a number in [0, 1) that spreads retries; default math/rand/v2.Float64.
	Jitter func() float64
}

// Webhook is one HTTP endpoint that receives events.
type Webhook struct {
	// Name labels the webhook's metrics and log lines; unique.
	Name string
	URL  string
	// Format is the body; default FormatJSON.
	Format Format
	// Events are the kinds delivered; empty: all.
	Events []Kind
	// Timeout bounds one attempt (connect, send, read the status); default 5s.
	Timeout time.Duration
	// MaxAttempts is how often one event is tried (the first attempt included); default 5.
	MaxAttempts int
	// BackoffInitial is the wait after the first failed attempt; it doubles after each
	// further one up to BackoffMax, each wait jittered to between half and all of it. A 429's
	// or 503's Retry-After replaces the wait, capped at BackoffMax. Defaults 1s and 1m.
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// Queue is how many events wait for delivery; when full the oldest is dropped (and
	// counted). Default 100.
	Queue int
	// Headers are added to every request (Authorization, tokens). Their values are never
	// logged.
	Headers map[string]string
}

// Hooks are the hook scripts; a nil one is not run.
type Hooks struct {
	// PreFailover runs before a failover or switchover is executed; a non-zero exit (or a
	// timeout, unless OnTimeout is allow) vetoes it. Synchronous: see Notifier.PreFailover.
	PreFailover *Hook
	// PostFailover runs after a failover or switchover (KindFailover, KindSwitchover): move a
	// VIP, update DNS. Asynchronous.
	PostFailover *Hook
	// OnResync runs on KindResyncStarted and KindResyncEnded. Asynchronous.
	OnResync *Hook
	// OnRollback runs on KindRollbackArchived. Asynchronous.
	OnRollback *Hook
}

// Hook is one script.
type Hook struct {
	// Command is the argv: no shell, unless it says [sh, -c, "..."]. A bare name is looked up
	// in PATH when it runs.
	Command []string
	// Timeout bounds a run; at its end the whole process group is killed. Default 30s.
	Timeout time.Duration
	// Dir is the working directory; empty: the sidecar's.
	Dir string
	// OnTimeout is for the pre_failover hook only; default TimeoutVeto.
	OnTimeout TimeoutPolicy
	// Env is added to the environment after the parent's (before the RSGUARD_* variables).
	Env []string
	// Queue bounds the runs waiting for an asynchronous hook; the oldest is dropped when full.
	// Default 100.
	Queue int
}

func (o Options) withDefaults() (Options, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	var errs []error
	names := map[string]bool{}
	whs := make([]Webhook, len(o.Webhooks))
	for i, w := range o.Webhooks {
		w, err := w.withDefaults()
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: webhooks[%d]: %w", i, err))
		} else if names[w.Name] {
			errs = append(errs, fmt.Errorf("notify: webhooks[%d]: name %q is used twice", i, w.Name))
		}
		names[w.Name] = true
		whs[i] = w
	}
	o.Webhooks = whs
	for _, h := range []struct {
		name string
		h    **Hook
	}{{HookPreFailover, &o.Hooks.PreFailover}, {HookPostFailover, &o.Hooks.PostFailover},
		{HookOnResync, &o.Hooks.OnResync}, {HookOnRollback, &o.Hooks.OnRollback}} {
		if *h.h == nil {
			continue
		}
		hk, err := (*h.h).withDefaults(h.name == HookPreFailover)
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: hooks.%s: %w", h.name, err))
		}
		*h.h = &hk
	}
	return o, errors.Join(errs...)
}

func (w Webhook) withDefaults() (Webhook, error) {
	if w.Name == "" {
		return w, errors.New("name is required")
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return w, fmt.Errorf("url must be an http:// or https:// URL")
	}
	if w.Format == "" {
		w.Format = FormatJSON
	}
	if w.Format != FormatJSON && w.Format != FormatSlack {
		return w, fmt.Errorf("unknown format %q (json or slack)", w.Format)
	}
	for _, k := range w.Events {
		if !k.Valid() {
			return w, fmt.Errorf("unknown event kind %q", k)
		}
	}
	if w.Timeout < 0 || w.BackoffInitial < 0 || w.BackoffMax < 0 || w.MaxAttempts < 0 || w.Queue < 0 {
		return w, errors.New("timeout, backoff, max_attempts and queue must not be negative")
	}
	w.Timeout = cmp.Or(w.Timeout, DefaultWebhookTimeout)
	w.MaxAttempts = cmp.Or(w.MaxAttempts, DefaultMaxAttempts)
	w.BackoffInitial = cmp.Or(w.BackoffInitial, DefaultBackoffInitial)
	w.BackoffMax = max(cmp.Or(w.BackoffMax, DefaultBackoffMax), w.BackoffInitial)
	w.Queue = cmp.Or(w.Queue, DefaultQueue)
	return w, nil
}

func (h Hook) withDefaults(pre bool) (Hook, error) {
	if len(h.Command) == 0 || h.Command[0] == "" {
		return h, errors.New("command is required")
	}
	if h.Timeout < 0 || h.Queue < 0 {
		return h, errors.New("timeout and queue must not be negative")
	}
	h.Timeout = cmp.Or(h.Timeout, DefaultHookTimeout)
	h.Queue = cmp.Or(h.Queue, DefaultQueue)
	switch {
	case h.OnTimeout == "" && pre:
		h.OnTimeout = TimeoutVeto
	case h.OnTimeout != "" && !pre:
		return h, errors.New("on_timeout applies to pre_failover only")
	case pre && h.OnTimeout != TimeoutVeto && h.OnTimeout != TimeoutAllow:
		return h, fmt.Errorf("unknown on_timeout %q (veto or allow)", h.OnTimeout)
	}
	h.Command = append([]string(nil), h.Command...)
	return h, nil
}
