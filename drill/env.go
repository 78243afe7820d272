package drill

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
)

// Env is what a scenario's steps get: the target, the set as it was before the fault, and
// ways to wait on what the run observes.
type Env struct {
	Target  Target
	Log     *slog.Logger
	Members []Member // before the fault
	Primary string   // before the fault
	Subject string
	Fault   time.Time

	poll  time.Duration
	load  *Workload
	store Store
	watch *watcher
	notes []Note
}

// Note puts a mark on the run's timeline.
func (e *Env) Note(format string, args ...any) {
	e.notes = append(e.notes, Note{At: time.Now(), What: fmt.Sprintf(format, args...)})
}

// Poll calls cond every poll interval until it returns true, an error, or ctx ends; what
// names the wait in the error.
func (e *Env) Poll(ctx context.Context, what string, cond func(ctx context.Context) (bool, error)) error {
	return until(ctx, e.poll, what, cond)
}

// until calls cond every interval until it returns true or ctx ends; an error from cond is
// kept for the message, not fatal (the set is in the middle of a fault).
func until(ctx context.Context, every time.Duration, what string, cond func(ctx context.Context) (bool, error)) error {
	t := time.NewTicker(every)
	defer t.Stop()
	var last error
	for {
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), last)
			}
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}

// Hold waits d or until ctx ends.
func (e *Env) Hold(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Latest is the last observation of the set, nil before the first.
func (e *Env) Latest() []Member { return e.watch.latest() }

// WaitWritablePrimary waits until a member other than the former primary is primary and a
// w:"majority" insert sent after the fault was acknowledged.
func (e *Env) WaitWritablePrimary(ctx context.Context) error {
	return e.Poll(ctx, "a new writable primary", func(context.Context) (bool, error) {
		p := primaryOf(e.watch.latest())
		return p != "" && p != e.Primary && e.ackedAfter(e.Fault), nil
	})
}

// WaitRole waits until host has role r.
func (e *Env) WaitRole(ctx context.Context, host string, r Role) error {
	return e.Poll(ctx, fmt.Sprintf("%s to be %s", host, r), func(context.Context) (bool, error) {
		for _, m := range e.watch.latest() {
			if m.Host == host && m.Role == r {
				return true, nil
			}
		}
		return false, nil
	})
}

// ackedAfter is true once a w:"majority" insert sent after t was acknowledged.
func (e *Env) ackedAfter(t time.Time) bool {
	for _, o := range e.load.Rec.Ops() {
		if o.Kind == OpMajority && o.OK() && o.Start.After(t) {
			return true
		}
	}
	return false
}

// Incident waits until a sidecar reports an incident about host after the fault.
func (e *Env) Incident(ctx context.Context, host string) (api.Event, error) {
	var found api.Event
	err := e.Poll(ctx, "a sidecar to report "+host+" in trouble", func(ctx context.Context) (bool, error) {
		for _, s := range e.Target.Sidecars() {
			h, err := s.Client.History(ctx, apiclient.HistoryQuery{Since: e.Fault.Add(-time.Second), Kind: api.EventIncident})
			if err != nil {
				continue
			}
			for _, ev := range h.Events {
				if ev.Member == host && !ev.Time.Before(e.Fault) {
					found = ev
					return true, nil
				}
			}
		}
		return false, nil
	})
	return found, err
}

// Coordinator asks the sidecars which of them coordinates now, skipping those that do not
// answer.
func (e *Env) Coordinator(ctx context.Context) (string, error) {
	var last error
	for _, s := range e.Target.Sidecars() {
		c, err := s.Client.Cluster(ctx)
		if err == nil && c.Coordinator != "" {
			return c.Coordinator, nil
		}
		last = err
	}
	return "", fmt.Errorf("no sidecar names a coordinator (last error: %v)", last)
}

// storeIDs reads back every id the workload's collection holds.
func (e *Env) storeIDs(ctx context.Context) (map[int64]bool, error) { return e.store.IDs(ctx) }
