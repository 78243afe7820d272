package config

import (
	"path/filepath"
	"time"
)

// Notifications are where rsguard sends its events (package notify, docs/hooks.md): webhooks,
// each with its own queue and retries. Optional; not reloadable.
type Notifications struct {
	// Webhooks receive events as JSON (the event itself) or as Slack messages. Default: none.
	Webhooks []Webhook `yaml:"webhooks" json:"webhooks"`
}

// WebhookFormat is the body a webhook receives.
type WebhookFormat string

// The webhook formats.
const (
	// WebhookJSON posts the event as a JSON object (notify.Event).
	WebhookJSON WebhookFormat = "json"
	// WebhookSlack posts a Slack incoming-webhook message ({"text": ..., "blocks": [...]}),
	// which Mattermost and Rocket.Chat accept too.
	WebhookSlack WebhookFormat = "slack"
)

// EventKinds are the event kinds a webhook may subscribe to (notify.Kinds; the supervisor's
// test keeps the two lists equal).
var EventKinds = []string{"failover", "switchover", "action", "incident", "primary_changed",
	"resync_started", "resync_ended", "rollback_archived", "pause", "resume", "acknowledge"}

// Webhook is one HTTP endpoint that receives events.
type Webhook struct {
	// Name identifies the webhook in logs and in the webhook label of the metrics:
	// [A-Za-z0-9._-]{1,63}, unique.
	Name string `yaml:"name" json:"name"`
	// URL is the http:// or https:// endpoint events are POSTed to. It is never logged (the
	// address of a Slack webhook is a credential), but it is part of the effective configuration
	// that validate-config --print shows.
	URL string `yaml:"url" json:"url"`
	// Format is the body: "json" (the event) or "slack" (a Slack-compatible message).
	Format WebhookFormat `yaml:"format" json:"format"`
	// Events are the event kinds delivered; empty: all of them. Kinds: failover, switchover,
	// action, incident, primary_changed, resync_started, resync_ended, rollback_archived, pause,
	// resume, acknowledge.
	Events []string `yaml:"events" json:"events"`
	// Timeout bounds one attempt: connecting, sending and reading the status.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// MaxAttempts is how many times an event is tried, the first attempt included. Network
	// errors, 5xx, 408 and 429 are retried; other 4xx are not.
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts"`
	// BackoffInitial is the wait after the first failed attempt; it doubles after each further
	// failure up to BackoffMax, jittered. A Retry-After header replaces it, capped at BackoffMax.
	BackoffInitial time.Duration `yaml:"backoff_initial" json:"backoff_initial"`
	// BackoffMax caps the wait between attempts, Retry-After included.
	BackoffMax time.Duration `yaml:"backoff_max" json:"backoff_max"`
	// Queue is how many events may wait for delivery; when it is full the oldest is dropped
	// (rsguard_notify_webhook_deliveries_total{result="dropped"}).
	Queue int `yaml:"queue" json:"queue"`
	// Headers are added to every request, such as Authorization. Each value is read at load
	// from a file or an environment variable, never written in the file:
	// {Authorization: {file: path}} or {X-Token: {env: VAR}}.
	Headers map[string]HeaderSource `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// Webhook defaults.
const (
	DefaultWebhookTimeout        = 5 * time.Second
	DefaultWebhookMaxAttempts    = 5
	DefaultWebhookBackoffInitial = time.Second
	DefaultWebhookBackoffMax     = time.Minute
	DefaultWebhookQueue          = 100
	DefaultHookTimeout           = 30 * time.Second
)

func (w *Webhook) setDefaults() {
	w.Format, w.Timeout, w.MaxAttempts = WebhookJSON, DefaultWebhookTimeout, DefaultWebhookMaxAttempts
	w.BackoffInitial, w.BackoffMax, w.Queue = DefaultWebhookBackoffInitial, DefaultWebhookBackoffMax, DefaultWebhookQueue
	w.Events = []string{}
}

// HeaderSource says where a webhook header's value comes from: exactly one of file and env.
type HeaderSource struct {
	// File holds the value alone (trailing newlines dropped); relative to the config file.
	File string `yaml:"file,omitempty" json:"file,omitempty"`
	// Env names the environment variable holding the value.
	Env string `yaml:"env,omitempty" json:"env,omitempty"`

	// Value is read from File or Env at load; it prints as "[redacted]".
	Value Secret `yaml:"-" json:"value"`
}

// Hooks are scripts the sidecar runs around its actions (package notify; docs/hooks.md lists
// their environment). Each is optional; not reloadable.
type Hooks struct {
	// PreFailover runs before this sidecar executes a failover or switchover, and waits: a
	// non-zero exit vetoes it (so does a timeout, unless on_timeout is allow).
	PreFailover *Hook `yaml:"pre_failover,omitempty" json:"pre_failover,omitempty"`
	// PostFailover runs after a failover or switchover, without blocking: move a virtual IP,
	// update DNS.
	PostFailover *Hook `yaml:"post_failover,omitempty" json:"post_failover,omitempty"`
	// OnResync runs when a resync of this sidecar's member starts and when it ends.
	OnResync *Hook `yaml:"on_resync,omitempty" json:"on_resync,omitempty"`
	// OnRollback runs when rollback files were moved into the rollback archive.
	OnRollback *Hook `yaml:"on_rollback,omitempty" json:"on_rollback,omitempty"`
}

// HookTimeoutPolicy is what a pre_failover hook that runs out of time means.
type HookTimeoutPolicy string

// The timeout policies.
const (
	HookTimeoutVeto  HookTimeoutPolicy = "veto"
	HookTimeoutAllow HookTimeoutPolicy = "allow"
)

// Hook is one script.
type Hook struct {
	// Command is the argv, run without a shell (write [sh, -c, "..."] for one). A bare name is
	// looked up in PATH at load; a relative path is relative to the config file.
	Command []string `yaml:"command" json:"command"`
	// Timeout bounds a run; at its end the hook's whole process group is killed.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// Dir is the working directory, relative to the config file; empty: the sidecar's.
	Dir string `yaml:"dir,omitempty" json:"dir,omitempty"`
	// OnTimeout (pre_failover only) is "veto" (default: a check that cannot answer says no) or
	// "allow".
	OnTimeout HookTimeoutPolicy `yaml:"on_timeout,omitempty" json:"on_timeout,omitempty"`
}

func (h *Hook) setDefaults() { h.Timeout = DefaultHookTimeout }

// deriveNotify fills the defaults that depend on where a hook sits.
func (c *Config) deriveNotify() {
	if h := c.Hooks.PreFailover; h != nil && h.OnTimeout == "" {
		h.OnTimeout = HookTimeoutVeto
	}
}

// list is the configured hooks with their keys, in schema order.
func (h *Hooks) list() []struct {
	key  string
	hook *Hook
} {
	all := []struct {
		key  string
		hook *Hook
	}{{"hooks.pre_failover", h.PreFailover}, {"hooks.post_failover", h.PostFailover},
		{"hooks.on_resync", h.OnResync}, {"hooks.on_rollback", h.OnRollback}}
	out := all[:0]
	for _, e := range all {
		if e.hook != nil {
			out = append(out, e)
		}
	}
	return out
}

// resolveNotifyPaths makes header files, hook dirs and relative hook commands (with a slash)
// relative to the config file's directory. Bare command names stay for the PATH lookup.
func (c *Config) resolveNotifyPaths(abs func(*string)) {
	for i := range c.Notifications.Webhooks {
		for name, hs := range c.Notifications.Webhooks[i].Headers {
			abs(&hs.File)
			c.Notifications.Webhooks[i].Headers[name] = hs
		}
	}
	for _, e := range c.Hooks.list() {
		abs(&e.hook.Dir)
		if len(e.hook.Command) > 0 && filepath.Base(e.hook.Command[0]) != e.hook.Command[0] {
			abs(&e.hook.Command[0])
		}
	}
}
