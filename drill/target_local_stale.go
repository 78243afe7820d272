package drill

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/rsguard/rsguard/lab"
	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// The filler that pushes a stopped member off the oplog: staleTurns times the oplog's size, in
// documents of fillerDoc bytes, fillerBatch per w:"majority" insert (small enough that the live
// secondaries stay within the window while it turns over).
const (
	staleTurns  = 3
	fillerDoc   = 8 << 10
	fillerBatch = 32
)

// StaleSecondary stops the host's mongod (SIGSTOP: it is its sidecar's child, which would
// restart a killed one at once), writes staleTurns times the oplog's size through the primary,
// and lets it run again: its sync source no longer has its last entry and it goes too stale
// (RECOVERING, tooStale; spec §7.5). It returns once the member says so or its sidecar has
// started a resync, so that what the scenario waits for next is the recovery. The undo only
// thaws a mongod a failed run left stopped.
func (l *Local) StaleSecondary(ctx context.Context, host string) (Undo, error) {
	h, pids, err := l.mongodOf(host)
	if err != nil {
		return nil, err
	}
	thaw := func(ctx context.Context) error {
		if err := lab.SignalPIDs(syscall.SIGCONT, pids...); err != nil {
			return err
		}
		return waitThawed(ctx, pids)
	}
	if err := lab.SignalPIDs(syscall.SIGSTOP, pids...); err != nil {
		return nil, err
	}
	if err := lab.WaitPIDsStopped(ctx, true, pids...); err != nil {
		return thaw, fmt.Errorf("stop %s: %w", h, err)
	}
	l.c.Timeline.Mark("%s: SIGSTOP mongod %v", h, pids)
	mb := staleTurns * l.opts.OplogSizeMB
	if err := l.fill(ctx, mb<<20); err != nil {
		return thaw, fmt.Errorf("writing %d MB past the oplog window of %s: %w", mb, h, err)
	}
	l.c.Timeline.Mark("%d MB written while %s was stopped (oplog %d MB)", mb, h, l.opts.OplogSizeMB)
	if err := thaw(ctx); err != nil {
		return thaw, err
	}
	if err := l.waitStale(ctx, h); err != nil {
		return thaw, err
	}
	return thaw, l.waitSeenOut(ctx, h)
}

// seenOutFor is how long the set's view must show the stale member out of SECONDARY before
// StaleSecondary returns: several of the drill's observations, so that a wait for it to be
// SECONDARY again cannot be met by a view from before it noticed (the primary learns its state
// from heartbeats, every 2 s by default).
const seenOutFor = time.Second

// waitSeenOut waits until Members, the view the scenario's waits read, has shown h out of
// SECONDARY for seenOutFor; or back already, when its resync was quicker than that.
func (l *Local) waitSeenOut(ctx context.Context, h *lab.Host) error {
	var out time.Time
	return until(ctx, 100*time.Millisecond, "the set to see "+h.String()+" out of SECONDARY", func(ctx context.Context) (bool, error) {
		ms, err := l.Members(ctx)
		if err != nil {
			return false, err
		}
		for _, m := range ms {
			if m.Host != h.HostPort() {
				continue
			}
			switch {
			case m.Role != RoleSecondary && out.IsZero():
				out = time.Now()
			case m.Role == RoleSecondary && !out.IsZero():
				return true, nil // resynced already
			}
			return !out.IsZero() && time.Since(out) >= seenOutFor, fmt.Errorf("%s is %s", h, m.State)
		}
		return false, fmt.Errorf("%s is not in the set's view", h)
	})
}

// fill writes bytes of filler documents through a replica-set client of its own.
func (l *Local) fill(ctx context.Context, bytes int) error {
	l.mu.Lock()
	if l.filler == nil {
		c, err := mongo.DialSet(mongo.SetOptions{Set: l.c.ReplSet(), Hosts: l.c.Seeds(), Database: "rsguard_drill",
			Collection: "stale_filler", ServerSelectionTimeout: 5 * time.Second, AppName: "rsguard-drill-filler"})
		if err != nil {
			l.mu.Unlock()
			return err
		}
		l.filler = c
	}
	f := l.filler
	l.mu.Unlock()
	for written := 0; written < bytes; written += fillerBatch * fillerDoc {
		bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := f.InsertFiller(bctx, fillerBatch, fillerDoc)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// errStillSecondary: the member caught up after all.
var errStillSecondary = errors.New("still SECONDARY")

// waitStale waits until h reports tooStale or its sidecar has begun a resync (which may take
// the mongod down before a poll sees tooStale).
func (l *Local) waitStale(ctx context.Context, h *lab.Host) error {
	car := l.cars.ByHost(h)
	return until(ctx, 250*time.Millisecond, h.String()+" too stale", func(ctx context.Context) (bool, error) {
		if car != nil {
			if r, err := l.cars.Status(ctx, car); err == nil && r.Resync != nil && r.Resync.Plan != nil {
				return true, nil
			}
		}
		n, err := h.Node()
		if err != nil {
			return false, err
		}
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		st, err := n.Status(sctx)
		switch {
		case err != nil:
			return false, err
		case st.TooStale:
			return true, nil
		case st.MyState == topology.StateSecondary:
			return false, fmt.Errorf("%w: %s caught up, the filler did not overwrite its oplog window", errStillSecondary, h)
		}
		return false, fmt.Errorf("%s is %s", h, st.MyState)
	})
}
