package supervisor

import (
	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/notify"
)

// NotifyOptions maps the notifications and hooks sections onto notify.Options, header secrets
// revealed (notify never logs them). The wiring is
//
//	n, err := notify.New(logger, reg, NotifyOptions(cfg))
func NotifyOptions(cfg *config.Config) notify.Options {
	opts := notify.Options{Set: cfg.ReplicaSet, Sidecar: cfg.ID}
	for _, w := range cfg.Notifications.Webhooks {
		nw := notify.Webhook{Name: w.Name, URL: w.URL, Format: notify.Format(w.Format), Timeout: w.Timeout,
			MaxAttempts: w.MaxAttempts, BackoffInitial: w.BackoffInitial, BackoffMax: w.BackoffMax, Queue: w.Queue}
		for _, k := range w.Events {
			nw.Events = append(nw.Events, notify.Kind(k))
		}
		if len(w.Headers) > 0 {
			nw.Headers = make(map[string]string, len(w.Headers))
			for name, h := range w.Headers {
				nw.Headers[name] = h.Value.Reveal()
			}
		}
		opts.Webhooks = append(opts.Webhooks, nw)
	}
	h := cfg.Hooks
	opts.Hooks = notify.Hooks{PreFailover: notifyHook(h.PreFailover), PostFailover: notifyHook(h.PostFailover),
		OnResync: notifyHook(h.OnResync), OnRollback: notifyHook(h.OnRollback)}
	return opts
}

func notifyHook(h *config.Hook) *notify.Hook {
	if h == nil {
		return nil
	}
	return &notify.Hook{Command: append([]string(nil), h.Command...), Timeout: h.Timeout, Dir: h.Dir,
		OnTimeout: notify.TimeoutPolicy(h.OnTimeout)}
}
