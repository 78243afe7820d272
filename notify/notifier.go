package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	randv2 "math/rand/v2"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Notifier tells webhooks and hook scripts what happened. Its methods are safe for concurrent
// use.
type Notifier struct {
	logger  *slog.Logger
	metrics *metrics
	opts    Options

	webhooks []*Webhook
	workers  []*worker
	hooks    map[Kind][]*worker // asynchronous hooks by the kinds that run them

	abort  context.Context // ends when Close gives up: in-flight requests and hooks are cut
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

// New validates opts and starts one goroutine per webhook and per asynchronous hook.
func New(logger *slog.Logger, reg prometheus.Registerer, opts Options) (*Notifier, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Jitter == nil {
		opts.Jitter = randv2.Float64
	}
	n := &Notifier{logger: logger, metrics: newMetrics(reg), opts: opts, hooks: map[Kind][]*worker{}}
	n.abort, n.cancel = context.WithCancel(context.Background())
	for i := range opts.Webhooks {
		w := &opts.Webhooks[i]
		n.webhooks = append(n.webhooks, w)
		gauge := n.metrics.queueLength.WithLabelValues(w.Name)
		gauge.Set(0)
		n.start(&worker{
			name: w.Name, q: newQueue[Event](w.Queue),
			handle: func(ctx context.Context, ev Event) {
				n.metrics.deliveries.WithLabelValues(w.Name, n.deliver(ctx, w, ev)).Inc()
			},
			abandon: func(ev Event) { n.metrics.deliveries.WithLabelValues(w.Name, resultAbandoned).Inc() },
			length:  func(l int) { gauge.Set(float64(l)) },
		})
	}
	for _, a := range []struct {
		name  string
		hook  *Hook
		kinds []Kind
	}{
		{HookPostFailover, opts.Hooks.PostFailover, []Kind{KindFailover, KindSwitchover}},
		{HookOnResync, opts.Hooks.OnResync, []Kind{KindResyncStarted, KindResyncEnded}},
		{HookOnRollback, opts.Hooks.OnRollback, []Kind{KindRollbackArchived}},
	} {
		if a.hook == nil {
			continue
		}
		name, h := a.name, a.hook
		wk := &worker{
			name: name, q: newQueue[Event](h.Queue),
			handle:  func(ctx context.Context, ev Event) { n.runHook(ctx, name, h, ev) },
			abandon: func(Event) { n.metrics.hookRuns.WithLabelValues(name, hookDropped).Inc() },
			length:  func(int) {},
		}
		n.start(wk)
		for _, k := range a.kinds {
			n.hooks[k] = append(n.hooks[k], wk)
		}
	}
	return n, nil
}

func (n *Notifier) start(w *worker) {
	n.workers = append(n.workers, w)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		w.run(n.abort)
	}()
}

// Notify queues ev for every webhook that wants its kind and every asynchronous hook it runs
// (post_failover on failover and switchover, on_resync on resync_started and resync_ended,
// on_rollback on rollback_archived). It never blocks: a full queue drops its oldest event.
// Empty ID, Time, Set and Sidecar are filled in. After Close it does nothing.
func (n *Notifier) Notify(ev Event) {
	ev = n.complete(ev)
	n.Webhooks(ev)
	n.Hooks(ev)
}

// Webhooks queues ev for the webhooks only (see Notify): the supervisor sends the set's events
// from one sidecar, while hooks run beside the member they concern.
func (n *Notifier) Webhooks(ev Event) {
	ev = n.complete(ev)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		n.logger.Debug("notifier closed; event not sent", "event", ev.ID, "kind", ev.Kind)
		return
	}
	for i, w := range n.webhooks {
		if !w.wants(ev.Kind) {
			continue
		}
		wk := n.workers[i]
		if dropped, _ := wk.q.push(ev); dropped != nil {
			n.metrics.deliveries.WithLabelValues(w.Name, resultDropped).Inc()
			n.logger.Warn("webhook queue full; oldest event dropped", "webhook", w.Name, "dropped", dropped.ID, "kind", dropped.Kind)
		}
		wk.length(wk.q.len())
	}
}

// Hooks queues ev for the asynchronous hook scripts of its kind only (see Notify).
func (n *Notifier) Hooks(ev Event) {
	ev = n.complete(ev)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		n.logger.Debug("notifier closed; event not sent", "event", ev.ID, "kind", ev.Kind)
		return
	}
	for _, wk := range n.hooks[ev.Kind] {
		if dropped, _ := wk.q.push(ev); dropped != nil {
			n.metrics.hookRuns.WithLabelValues(wk.name, hookDropped).Inc()
			n.logger.Warn("hook queue full; oldest event dropped", "hook", wk.name, "dropped", dropped.ID, "kind", dropped.Kind)
		}
	}
}

// PreFailover runs the pre_failover hook for ev and waits for it (up to its timeout). It
// returns nil when the failover may go on (no hook, exit 0, or a timeout with on_timeout:
// allow), a *VetoError when the hook says no, and ctx's error when ctx ended first. Call it
// before executing a failover or switchover; any non-nil error means do not proceed.
func (n *Notifier) PreFailover(ctx context.Context, ev Event) error {
	h := n.opts.Hooks.PreFailover
	if h == nil {
		return nil
	}
	ev = n.complete(ev)
	r := n.runHook(ctx, HookPreFailover, h, ev)
	switch {
	case r.result == hookOK:
		return nil
	case r.result == hookTimeout && h.OnTimeout == TimeoutAllow:
		n.logger.Warn("pre_failover hook timed out; on_timeout allows the failover", "event", ev.ID)
		return nil
	case r.result != hookTimeout && ctx.Err() != nil:
		return fmt.Errorf("notify: pre_failover: %w", ctx.Err())
	}
	v := &VetoError{Hook: HookPreFailover, ExitCode: r.exitCode, TimedOut: r.result == hookTimeout, Output: r.output}
	if r.result == hookError {
		v.Err = r.err
	}
	return v
}

// Close stops accepting events and waits until the queues are delivered, or until ctx ends:
// then in-flight requests and hook runs are cut (their process groups killed), what is still
// queued is counted as abandoned, and the error says so.
func (n *Notifier) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	for _, w := range n.workers {
		w.q.close()
	}
	n.mu.Unlock()
	done := make(chan struct{})
	go func() {
		n.wg.Wait()
		close(done)
	}()
	defer n.cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		n.cancel()
		<-done
		return fmt.Errorf("notify: close gave up with deliveries pending: %w", ctx.Err())
	}
}

// complete fills the fields Notify promises to fill.
func (n *Notifier) complete(ev Event) Event {
	if ev.ID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		ev.ID = hex.EncodeToString(b[:])
	}
	if ev.Time.IsZero() {
		ev.Time = n.opts.Now()
	}
	if ev.Set == "" {
		ev.Set = n.opts.Set
	}
	if ev.Sidecar == "" {
		ev.Sidecar = n.opts.Sidecar
	}
	return ev
}
