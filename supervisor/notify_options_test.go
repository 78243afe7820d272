package supervisor

import (
	"slices"
	"testing"
	"time"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/notify"
)

// The configuration's list of event kinds is the notifier's: config cannot import notify.
func TestConfigEventKindsMatchNotify(t *testing.T) {
	var kinds []string
	for _, k := range notify.Kinds() {
		kinds = append(kinds, string(k))
	}
	if !slices.Equal(kinds, config.EventKinds) {
		t.Errorf("config.EventKinds %v, notify.Kinds %v", config.EventKinds, kinds)
	}
}

func TestNotifyOptionsMapsConfig(t *testing.T) {
	cfg := &config.Config{ID: "node-a", ReplicaSet: "rs0",
		Notifications: config.Notifications{Webhooks: []config.Webhook{{
			Name: "ops", URL: "https://x.example/h", Format: config.WebhookSlack, Events: []string{"failover"},
			Timeout: time.Second, MaxAttempts: 3, BackoffInitial: time.Millisecond, BackoffMax: time.Second, Queue: 7,
			Headers: map[string]config.HeaderSource{"Authorization": {Env: "TOK", Value: config.NewSecret("Bearer z")}},
		}}},
		Hooks: config.Hooks{PreFailover: &config.Hook{Command: []string{"/bin/true"}, Timeout: time.Second, OnTimeout: config.HookTimeoutAllow},
			OnRollback: &config.Hook{Command: []string{"/bin/true"}, Timeout: 2 * time.Second, Dir: "/tmp"}},
	}
	o := NotifyOptions(cfg)
	if o.Set != "rs0" || o.Sidecar != "node-a" || len(o.Webhooks) != 1 {
		t.Fatalf("%+v", o)
	}
	w := o.Webhooks[0]
	if w.Name != "ops" || w.Format != notify.FormatSlack || !slices.Equal(w.Events, []notify.Kind{notify.KindFailover}) ||
		w.MaxAttempts != 3 || w.Queue != 7 || w.Headers["Authorization"] != "Bearer z" {
		t.Errorf("webhook %+v", w)
	}
	h := o.Hooks
	if h.PreFailover == nil || h.PreFailover.OnTimeout != notify.TimeoutAllow || h.PostFailover != nil || h.OnResync != nil ||
		h.OnRollback == nil || h.OnRollback.Dir != "/tmp" || h.OnRollback.Timeout != 2*time.Second {
		t.Errorf("hooks %+v", h)
	}
	n, err := notify.New(nil, nil, o)
	if err != nil {
		t.Fatalf("notify.New on mapped options: %v", err)
	}
	_ = n.Close(t.Context())
}
