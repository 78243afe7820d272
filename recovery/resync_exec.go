package recovery

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// The resync executor (the recovery issue, deliverable 4) runs a ResyncPlan one idempotent step
// at a time and persists the plan after every step, so that a sidecar killed in the middle
// resumes where it stood:
//
//   - stop: Controller.Stop; stopping a stopped mongod is a no-op.
//   - move aside: the plan names the aside path before anything moves; the rename happens once
//     (a dbpath already gone and an aside present means it happened), then an empty dbpath.
//   - start: Controller.Start, a no-op when it runs.
//   - initial sync: mongod, empty and still in the set's config, gets the config from the
//     primary's heartbeats and runs an initial sync by itself (spec §7.6); the step only watches
//     initialSyncStatus and ends once the member is SECONDARY within MaxLag.
//   - cleanup: keep the newest Keep aside copies, delete older ones.

// ResyncOptions configure a Resyncer.
type ResyncOptions struct {
	// StateDir is where the plan is saved.
	StateDir string
	// Keep is how many old dbpath copies to keep (the one just moved aside included).
	Keep int
	// MaxLag: a SECONDARY this close to the primary has finished the resync.
	MaxLag time.Duration
	// MaxErrors: this many failed attempts at a step in a row fail the plan.
	MaxErrors int
	Now       func() time.Time
}

// SyncObservation is what the sidecar sees of its mongod while it resyncs.
type SyncObservation struct {
	Reachable bool
	State     topology.MemberState
	Progress  ResyncProgress
	Lag       time.Duration
}

// Resyncer runs resync plans with a process controller.
type Resyncer struct {
	logger *slog.Logger
	ctrl   Controller
	opts   ResyncOptions
	errs   int
}

// NewResyncer needs the controller that owns the member's mongod.
func NewResyncer(logger *slog.Logger, ctrl Controller, opts ResyncOptions) (*Resyncer, error) {
	if ctrl == nil {
		return nil, errors.New("recovery: resync needs a process controller")
	}
	if opts.StateDir == "" {
		return nil, errors.New("recovery: resync needs a state directory for its plan")
	}
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = 5
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Resyncer{logger: logger, ctrl: ctrl, opts: opts}, nil
}

// Advance runs the plan's steps until one has to wait for mongod (the initial sync) or the plan
// ends, saving the plan after each. A failed step is retried at the next call; MaxErrors failures
// in a row fail the plan.
func (r *Resyncer) Advance(ctx context.Context, p ResyncPlan, obs SyncObservation) (ResyncPlan, error) {
	for !p.Step.Finished() {
		before := p.Step
		next, err := r.step(ctx, p, obs)
		now := r.opts.Now()
		next.Updated = now
		if err != nil {
			r.errs++
			next.Error = err.Error()
			if r.errs >= r.opts.MaxErrors {
				next.Step, next.Finished = StepFailed, now
			}
			if serr := SaveResyncPlan(r.opts.StateDir, next); serr != nil {
				return next, errors.Join(err, serr)
			}
			return next, err
		}
		r.errs = 0
		if next.Step != before || next.Progress != p.Progress {
			if next.Step.Finished() {
				next.Finished = now
			}
			if err := SaveResyncPlan(r.opts.StateDir, next); err != nil {
				return next, err
			}
		}
		if next.Step == before {
			return next, nil // waiting for mongod
		}
		r.logger.Info("resync step done", "plan", p.ID, "step", before, "next", next.Step)
		p = next
	}
	return p, nil
}

func (r *Resyncer) step(ctx context.Context, p ResyncPlan, obs SyncObservation) (ResyncPlan, error) {
	switch p.Step {
	case StepStop:
		if err := r.ctrl.Stop(ctx); err != nil {
			return p, fmt.Errorf("stop mongod: %w", err)
		}
		p.Step = StepMoveAside
	case StepMoveAside:
		if err := moveAside(p.DBPath, p.Aside); err != nil {
			return p, err
		}
		p.Step = StepStart
	case StepStart:
		if err := r.ctrl.Start(ctx); err != nil {
			return p, fmt.Errorf("start mongod on the empty dbpath: %w", err)
		}
		p.Step, p.SyncStarted = StepSync, r.opts.Now()
	case StepSync:
		p.Progress = obs.Progress
		p.Progress.State = obs.State.String()
		if obs.Reachable && obs.State == topology.StateSecondary && (r.opts.MaxLag <= 0 || obs.Lag <= r.opts.MaxLag) {
			p.Step = StepCleanup
		}
	case StepCleanup:
		if err := keepNewest(p.DBPath, r.opts.Keep); err != nil {
			return p, err
		}
		p.Step, p.Error = StepDone, ""
	}
	return p, nil
}

// moveAside renames dbpath to aside and creates an empty dbpath, once: when aside exists the
// rename is done.
func moveAside(dbpath, aside string) error {
	if _, err := os.Stat(aside); err == nil {
		return ensureDir(dbpath)
	}
	if _, err := os.Stat(dbpath); errors.Is(err, fs.ErrNotExist) {
		return ensureDir(dbpath) // nothing to keep (a wiped dbpath)
	}
	if err := os.Rename(dbpath, aside); err != nil {
		return fmt.Errorf("move the dbpath aside: %w", err)
	}
	return ensureDir(dbpath)
}

func ensureDir(path string) error {
	if err := os.MkdirAll(path, 0o750); err != nil {
		return fmt.Errorf("create the empty dbpath: %w", err)
	}
	return nil
}

// keepNewest deletes all but the newest keep copies <dbpath>.resync-*.
func keepNewest(dbpath string, keep int) error {
	copies, err := filepath.Glob(filepath.Clean(dbpath) + ".resync-*")
	if err != nil {
		return err
	}
	slices.Sort(copies) // the suffix is a UTC time stamp: lexical order is age order
	for _, c := range copies[:max(len(copies)-max(keep, 0), 0)] {
		if err := os.RemoveAll(c); err != nil {
			return fmt.Errorf("delete the old dbpath copy %s: %w", c, err)
		}
	}
	return nil
}
