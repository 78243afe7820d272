package drill

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func TestScenarioSwitchoverOnFake(t *testing.T) {
	f := newFakeSet()
	r := NewRunner(slog.New(slog.DiscardHandler), f, fastOptions(f, nil)).Run(context.Background(), scenario(t, "switchover"), 1)
	if r.Verdict != VerdictPass || r.Decision != "switchover_done" || r.NewPrimary != "b:1" || r.DetectionMs != nil {
		t.Errorf("verdict %s %q, decision %q, new primary %q, detection %v", r.Verdict, r.Problems, r.Decision, r.NewPrimary, r.DetectionMs)
	}
	if !slices.ContainsFunc(r.Timeline, func(m Mark) bool { return m.Kind == MarkNote && strings.Contains(m.What, "switchover done") }) {
		t.Errorf("no note of the switchover: %+v", r.Timeline)
	}
}

// TestScenarioKillCoordinatorOnFake: the coordinator is killed only after the incident is raised,
// and the undo restarts both the sidecar and the mongod.
func TestScenarioKillCoordinatorOnFake(t *testing.T) {
	f := newFakeSet()
	r := NewRunner(slog.New(slog.DiscardHandler), f, fastOptions(f, nil)).Run(context.Background(), scenario(t, "kill-coordinator-mid-failover"), 1)
	if r.Verdict != VerdictPass {
		t.Fatalf("verdict %s: %q", r.Verdict, r.Problems)
	}
	if !slices.Equal(f.sidecarKills, []string{"s1"}) || f.sidecarUps != 1 || f.undos != 1 {
		t.Errorf("sidecars killed %v, restarted %d, mongod undos %d", f.sidecarKills, f.sidecarUps, f.undos)
	}
	var notes []string
	for _, m := range r.Timeline {
		if m.Kind == MarkNote {
			notes = append(notes, m.What)
		}
	}
	if len(notes) != 2 || !strings.HasPrefix(notes[0], "incident raised: primary a:1 found dead") || notes[1] != "coordinator sidecar s1 killed" {
		t.Errorf("notes %q", notes)
	}
}

func TestScenarioLoseArbiterOnFake(t *testing.T) {
	f := newFakeSet()
	f.hosts = append(f.hosts, "d:1")
	f.arbiter = "d:1"
	sc := scenario(t, "lose-arbiter")
	sc.Hold = 0
	r := NewRunner(slog.New(slog.DiscardHandler), f, fastOptions(f, nil)).Run(context.Background(), sc, 1)
	if r.Verdict != VerdictPass || r.Subject != "d:1" || r.RecoveredMs == nil || r.Failovers != 0 {
		t.Errorf("verdict %s %q, subject %q, recovered %v, failovers %d", r.Verdict, r.Problems, r.Subject, r.RecoveredMs, r.Failovers)
	}
}
