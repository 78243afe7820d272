package recovery

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// stubCtrl is a Controller that records calls and fails Stop while stopErr is set.
type stubCtrl struct {
	starts, stops int
	stopErr       error
	exits         chan Exit
}

func (c *stubCtrl) Start(context.Context) error { c.starts++; return nil }
func (c *stubCtrl) Stop(context.Context) error {
	if c.stopErr != nil {
		return c.stopErr
	}
	c.stops++
	return nil
}
func (c *stubCtrl) Process() Process   { return Process{Known: true} }
func (c *stubCtrl) Exits() <-chan Exit { return c.exits }

func newTestResync(t *testing.T) (dbpath, state string, ctrl *stubCtrl, r *Resyncer, p ResyncPlan) {
	t.Helper()
	root := t.TempDir()
	dbpath, state = filepath.Join(root, "db"), filepath.Join(root, "state")
	if err := os.MkdirAll(dbpath, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dbpath, "collection-1.wt"), []byte("old data"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctrl = &stubCtrl{}
	now := time.Date(2026, 12, 2, 17, 30, 0, 0, time.UTC)
	r, err := NewResyncer(slog.New(slog.DiscardHandler), ctrl, ResyncOptions{StateDir: state, Keep: 1, MaxLag: 10 * time.Second,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	p = NewResyncPlan("127.0.0.2:27017", dbpath, ResyncDecision{Start: true, Reason: ResyncStart}, now)
	return dbpath, state, ctrl, r, p
}

func TestResyncRunsEveryStep(t *testing.T) {
	dbpath, state, ctrl, r, p := newTestResync(t)
	older := dbpath + ".resync-20200101T000000Z"
	if err := os.MkdirAll(older, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := r.Advance(ctx, p, SyncObservation{})
	if err != nil || p.Step != StepSync || ctrl.stops != 1 || ctrl.starts != 1 {
		t.Fatalf("first advance: step %s, %d stops, %d starts, %v", p.Step, ctrl.stops, ctrl.starts, err)
	}
	if b, err := os.ReadFile(filepath.Join(p.Aside, "collection-1.wt")); err != nil || string(b) != "old data" {
		t.Errorf("the old dbpath is not kept aside: %q, %v", b, err)
	}
	if ents, err := os.ReadDir(dbpath); err != nil || len(ents) != 0 {
		t.Errorf("the dbpath is not empty: %v, %v", ents, err)
	}
	// Initial sync under way: the step waits and records the progress.
	prog := ResyncProgress{BytesCopied: 50, TotalBytes: 200, Remaining: 3 * time.Second}
	p, err = r.Advance(ctx, p, SyncObservation{Reachable: true, State: topology.StateStartup2, Progress: prog})
	if err != nil || p.Step != StepSync || p.Progress.Fraction() != 0.25 || p.Progress.State != "STARTUP2" {
		t.Fatalf("during the sync: %+v, %v", p, err)
	}
	if saved, ok, err := LoadResyncPlan(state); err != nil || !ok || saved.Progress.BytesCopied != 50 {
		t.Errorf("progress not saved: %+v %v %v", saved, ok, err)
	}
	// SECONDARY but far behind: not done.
	p, _ = r.Advance(ctx, p, SyncObservation{Reachable: true, State: topology.StateSecondary, Lag: time.Minute})
	if p.Step != StepSync {
		t.Fatalf("done while a minute behind: %s", p.Step)
	}
	p, err = r.Advance(ctx, p, SyncObservation{Reachable: true, State: topology.StateSecondary, Lag: time.Second})
	if err != nil || p.Step != StepDone || p.Finished.IsZero() {
		t.Fatalf("end: %+v, %v", p, err)
	}
	if _, err := os.Stat(older); !os.IsNotExist(err) {
		t.Errorf("the older copy is still there with resync_keep 1: %v", err)
	}
	if _, err := os.Stat(p.Aside); err != nil {
		t.Errorf("the newest copy was deleted: %v", err)
	}
	if ctrl.stops != 1 || ctrl.starts != 1 {
		t.Errorf("%d stops, %d starts over the whole plan", ctrl.stops, ctrl.starts)
	}
}

// A sidecar killed after the rename but before the plan said so: the resumed plan does not move
// the fresh dbpath over the kept copy.
func TestResyncResumesAfterTheMove(t *testing.T) {
	dbpath, state, ctrl, r, p := newTestResync(t)
	p.Step = StepMoveAside
	if err := SaveResyncPlan(state, p); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dbpath, p.Aside); err != nil { // the rename happened, then the kill
		t.Fatal(err)
	}
	resumed, ok, err := LoadResyncPlan(state)
	if err != nil || !ok || resumed.Step != StepMoveAside {
		t.Fatalf("load: %+v %v %v", resumed, ok, err)
	}
	p, err = r.Advance(context.Background(), resumed, SyncObservation{})
	if err != nil || p.Step != StepSync || ctrl.starts != 1 || ctrl.stops != 0 {
		t.Fatalf("resumed: %s, %v (%d starts, %d stops)", p.Step, err, ctrl.starts, ctrl.stops)
	}
	if b, err := os.ReadFile(filepath.Join(p.Aside, "collection-1.wt")); err != nil || string(b) != "old data" {
		t.Errorf("the kept copy changed: %q, %v", b, err)
	}
}

func TestResyncFailsAfterRepeatedErrors(t *testing.T) {
	_, state, ctrl, r, p := newTestResync(t)
	ctrl.stopErr = errors.New("permission denied")
	var err error
	for range 5 {
		p, err = r.Advance(context.Background(), p, SyncObservation{})
	}
	if err == nil || p.Step != StepFailed || p.Error == "" {
		t.Fatalf("after 5 failed stops: %+v, %v", p, err)
	}
	if saved, _, _ := LoadResyncPlan(state); saved.Step != StepFailed {
		t.Errorf("saved step %s", saved.Step)
	}
}
