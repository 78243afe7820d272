package drill

import (
	"context"
	"fmt"
	"time"

	"github.com/rsguard/rsguard/api"
)

// DefaultRollbackWait bounds how long a run whose former primary rolled back waits, after the
// read-back, for that member's sidecar to record the archive of its rollback files: the
// sidecar archives them only once the member is SECONDARY again and its sweep runs.
const DefaultRollbackWait = 60 * time.Second

// rolledBack says whether the run's former primary rolled back: acknowledged w:1 inserts are
// gone, or it was seen in ROLLBACK after the fault (spec §7.7).
func rolledBack(rec *Recording) bool {
	if rec.FormerPrimary == "" {
		return false
	}
	if len(rec.W1.Lost) > 0 {
		return true
	}
	for _, s := range rec.States {
		if s.At.Before(rec.Fault) {
			continue
		}
		for _, m := range s.Members {
			if m.Host == rec.FormerPrimary && m.State == "ROLLBACK" {
				return true
			}
		}
	}
	return false
}

// isRunArchive says whether ev is a rollback archive of this run: recorded after the fault
// by a member that was primary in the run (only a primary takes the writes it rolls back).
// An archive of an earlier run's former primary, recorded late, is not this run's.
func isRunArchive(rec *Recording, ev api.Event) bool {
	if ev.Kind != api.EventRollbackArchived || ev.Time.Before(rec.Fault) || ev.Member == "" {
		return false
	}
	if ev.Member == rec.FormerPrimary {
		return true
	}
	for _, s := range rec.States {
		if s.At.Before(rec.Fault) {
			continue
		}
		for _, m := range s.Members {
			if m.Host == ev.Member && m.Role == RolePrimary {
				return true
			}
		}
	}
	return false
}

// archivedBy says whether the history holds host's rollback archive recorded after the fault.
func archivedBy(rec *Recording, host string) bool {
	for _, ev := range rec.Events {
		if ev.Kind == api.EventRollbackArchived && ev.Member == host && !ev.Time.Before(rec.Fault) {
			return true
		}
	}
	return false
}

// awaitRollbackArchive waits, bounded by RollbackWait, for the former primary's archive
// event when it rolled back; not seeing it is a note on the timeline, not a failure (unless
// the scenario expects files: Measure judges that).
func (r *Runner) awaitRollbackArchive(ctx context.Context, rec *Recording) {
	if !rolledBack(rec) || archivedBy(rec, rec.FormerPrimary) || ctx.Err() != nil {
		return
	}
	wait := r.opts.RollbackWait
	err := r.within(ctx, wait, func(ctx context.Context) error {
		t := time.NewTicker(r.opts.Poll)
		defer t.Stop()
		for {
			r.collectEvents(ctx, rec)
			if archivedBy(rec, rec.FormerPrimary) {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		}
	})
	if err != nil {
		rec.Notes = append(rec.Notes, Note{At: time.Now(), What: fmt.Sprintf("rollback files of %s not seen within %s", rec.FormerPrimary, wait)})
	}
}
