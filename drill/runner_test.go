package drill

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

func fastOptions(f *fakeSet, obs Observer) Options {
	return Options{Workload: WorkloadOptions{Majority: 1, W1: 1, Readers: 1, Registers: 2, Every: 5 * time.Millisecond, Timeout: time.Second},
		Warmup: 3, WaitTimeout: 2 * time.Second, RecoverTimeout: 2 * time.Second, Poll: 5 * time.Millisecond,
		Observer: obs, OpenStore: f.open}
}

func scenario(t *testing.T, name string) Scenario {
	t.Helper()
	s, err := Lookup([]string{name})
	if err != nil {
		t.Fatal(err)
	}
	return s[0]
}

func TestRunnerKillPrimaryFlow(t *testing.T) {
	f := newFakeSet()
	obs := &steps{}
	r := NewRunner(slog.New(slog.DiscardHandler), f, fastOptions(f, obs)).Run(context.Background(), scenario(t, "kill-primary"), 1)
	if r.Verdict != VerdictPass {
		t.Fatalf("verdict %s: %v", r.Verdict, r.Problems)
	}
	if f.undos != 1 {
		t.Errorf("undo ran %d times, want 1", f.undos)
	}
	if want := []string{"prepare", "warm-up", "fault", "waiting", "undo", "recovery", "verify"}; !slices.Equal(obs.seen, want) {
		t.Errorf("steps %v, want %v", obs.seen, want)
	}
	if r.NewPrimary != "b:1" || r.FormerPrimary != "a:1" || r.DetectionMs == nil || r.Decision != "primary_process_dead" {
		t.Errorf("new primary %q, former %q, detection %v, decision %q", r.NewPrimary, r.FormerPrimary, r.DetectionMs, r.Decision)
	}
	if l := r.Linearizability; l == nil || l.Verdict != "linearizable" || l.Ops < 4 {
		t.Errorf("linearizability %+v", l)
	}
	if r.WritablePrimaryMs == nil || r.RecoveredMs == nil || r.Majority.Acked < 3 || r.AckedLost != 0 || len(r.Audit) == 0 {
		t.Errorf("writable %v, recovered %v, majority %+v, lost %d, audit %d", r.WritablePrimaryMs, r.RecoveredMs, r.Majority, r.AckedLost, len(r.Audit))
	}
}

func TestRunnerUndoesWhenTheWaitTimesOut(t *testing.T) {
	f := newFakeSet()
	f.promote = false
	o := fastOptions(f, nil)
	o.WaitTimeout, o.RecoverTimeout = 300*time.Millisecond, 300*time.Millisecond
	r := NewRunner(slog.New(slog.DiscardHandler), f, o).Run(context.Background(), scenario(t, "kill-primary"), 1)
	if r.Verdict != VerdictFail || !strings.Contains(strings.Join(r.Problems, "\n"), "waiting for a new writable primary") {
		t.Errorf("verdict %s, problems %q", r.Verdict, r.Problems)
	}
	if f.undos != 1 {
		t.Errorf("undo ran %d times, want 1", f.undos)
	}
}

func TestRunnerUndoesWhenCancelled(t *testing.T) {
	f := newFakeSet()
	f.promote = false
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := &steps{onStep: func(s string) {
		if s == "waiting" {
			cancel()
		}
	}}
	r := NewRunner(slog.New(slog.DiscardHandler), f, fastOptions(f, obs)).Run(ctx, scenario(t, "kill-primary"), 1)
	if r.Verdict != VerdictError || !strings.Contains(strings.Join(r.Problems, "\n"), "interrupted") {
		t.Errorf("verdict %s, problems %q", r.Verdict, r.Problems)
	}
	if f.undos != 1 {
		t.Errorf("undo ran %d times, want 1 (also when the context ends)", f.undos)
	}
}

func TestRunnerSkips(t *testing.T) {
	f := newFakeSet()
	f.unsupported[FaultFreeze] = "the fake cannot stop processes"
	run := NewRunner(slog.New(slog.DiscardHandler), f, fastOptions(f, nil))
	r := run.Run(context.Background(), scenario(t, "freeze-primary"), 1)
	if r.Verdict != VerdictSkip || !strings.Contains(r.Skipped, "the fake cannot stop processes") {
		t.Errorf("freeze-primary: verdict %s, skipped %q", r.Verdict, r.Skipped)
	}
	r = run.Run(context.Background(), scenario(t, "lose-arbiter"), 1)
	if r.Verdict != VerdictSkip || !strings.Contains(r.Skipped, "no arbiter") {
		t.Errorf("lose-arbiter: verdict %s, skipped %q", r.Verdict, r.Skipped)
	}
	// Unsupported found only when injecting (Can said yes): skipped too, nothing to undo.
	r = run.Run(context.Background(), scenario(t, "isolate-primary"), 1)
	if r.Verdict != VerdictSkip || f.undos != 0 {
		t.Errorf("isolate-primary: verdict %s, undos %d", r.Verdict, f.undos)
	}
}

func TestRunnerCatchesALostWrite(t *testing.T) {
	f := newFakeSet()
	f.dropID = 2
	sc := scenario(t, "kill-secondary")
	sc.Hold = 0
	r := NewRunner(slog.New(slog.DiscardHandler), f, fastOptions(f, nil)).Run(context.Background(), sc, 1)
	if r.Verdict != VerdictFail || r.AckedLost != 1 || r.Majority.Lost[0] != "2" || len(r.Problems) != 1 {
		t.Errorf("verdict %s, lost %d %v, problems %q", r.Verdict, r.AckedLost, r.Majority.Lost, r.Problems)
	}
}

func TestLookup(t *testing.T) {
	if len(Names()) != 12 {
		t.Errorf("%d scenarios, want 12: %v", len(Names()), Names())
	}
	if _, err := Lookup([]string{"kill-primary", "nope"}); err == nil || !strings.Contains(err.Error(), `"nope": unknown (known: kill-primary,`) {
		t.Errorf("err %v", err)
	}
}

func TestRunnerPrepares(t *testing.T) {
	f := newFakeSet()
	f.antiFlap = true
	r := NewRunner(slog.New(slog.DiscardHandler), f, fastOptions(f, nil)).Run(context.Background(), scenario(t, "kill-primary"), 1)
	if r.Verdict != VerdictPass || f.acks != 1 {
		t.Errorf("verdict %s %v, %d acknowledgements (want 1: the anti-flap block lifted first)", r.Verdict, r.Problems, f.acks)
	}
	f = newFakeSet()
	f.down["c:1"] = true
	o := fastOptions(f, nil)
	o.WaitTimeout = 100 * time.Millisecond
	r = NewRunner(slog.New(slog.DiscardHandler), f, o).Run(context.Background(), scenario(t, "kill-primary"), 1)
	if r.Verdict != VerdictError || !strings.Contains(strings.Join(r.Problems, ""), "the set is not healthy before the run (c:1 is DOWN)") || f.undos != 0 {
		t.Errorf("verdict %s, problems %q, undos %d", r.Verdict, r.Problems, f.undos)
	}
}

func TestUnhealthyMembers(t *testing.T) {
	if got := unhealthyMembers(members("a:1", nil)); got != "" {
		t.Errorf("healthy set: %q", got)
	}
	if got := unhealthyMembers(members("", map[string]Role{"c:1": RoleOther})); got != "c:1 is DOWN, 0 primaries" {
		t.Errorf("got %q", got)
	}
}

// TestRunnerCatchesStaleReads: a store whose reads miss the last acknowledged write fails the
// run on the register check: the checker can fail.
func TestRunnerCatchesStaleReads(t *testing.T) {
	f := newFakeSet()
	f.staleReads = true
	sc := scenario(t, "kill-secondary")
	sc.Hold = 0
	r := NewRunner(slog.New(slog.DiscardHandler), f, fastOptions(f, nil)).Run(context.Background(), sc, 1)
	if r.Verdict != VerdictFail || r.Linearizability == nil || r.Linearizability.Verdict != "not-linearizable" ||
		!strings.Contains(strings.Join(r.Problems, ""), "register history: history is not linearizable") {
		t.Errorf("verdict %s, linearizability %+v, problems %q", r.Verdict, r.Linearizability, r.Problems)
	}
}
