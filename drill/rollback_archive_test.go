package drill

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/api"
)

// archive is a rollback_archived event of host at t.
func archive(id, host string, t time.Time) api.Event {
	return api.Event{ID: id, Kind: api.EventRollbackArchived, Time: t, Member: host, Summary: host + " rolled back"}
}

// rollbackFake is a fake set whose kill of the primary drops one acknowledged w:1 insert (the
// former primary "rolled back") and whose sidecar holds an archive of a:1 from an earlier run.
func rollbackFake() *fakeSet {
	f := newFakeSet()
	f.dropID = idBase(OpW1, 0) + 1
	f.events = []api.Event{archive("old", "a:1", time.Now().Add(-time.Second))}
	return f
}

func TestRunnerWaitsForTheLateRollbackArchive(t *testing.T) {
	f := rollbackFake()
	// The archive is recorded only after the run first collected the history.
	f.onHistory = func(n int) []api.Event {
		if n == 3 {
			return []api.Event{archive("late", "a:1", time.Now())}
		}
		return nil
	}
	o := fastOptions(f, nil)
	o.RollbackWait = 5 * time.Second
	r := NewRunner(slog.New(slog.DiscardHandler), f, o).Run(context.Background(), scenario(t, "kill-primary"), 1)
	if r.RolledBack != 1 || r.RollbackFiles != 1 {
		t.Fatalf("rolled back %d, rollback files %d (want 1, 1: the late archive, not the earlier run's)", r.RolledBack, r.RollbackFiles)
	}
	if r.Verdict != VerdictPass {
		t.Errorf("verdict %s: %v", r.Verdict, r.Problems)
	}
	for _, m := range r.Timeline {
		if m.Kind == MarkNote && strings.Contains(m.What, "rollback files") {
			t.Errorf("timeline has %q though the archive came", m.What)
		}
	}
}

func TestRunnerNotesAMissingRollbackArchive(t *testing.T) {
	f := rollbackFake()
	o := fastOptions(f, nil)
	o.RollbackWait = 100 * time.Millisecond
	r := NewRunner(slog.New(slog.DiscardHandler), f, o).Run(context.Background(), scenario(t, "kill-primary"), 1)
	if r.RolledBack != 1 || r.RollbackFiles != 0 {
		t.Fatalf("rolled back %d, rollback files %d (want 1, 0: the earlier run's archive is not this run's)", r.RolledBack, r.RollbackFiles)
	}
	if r.Verdict != VerdictPass {
		t.Errorf("verdict %s: %v (a missing archive is a note unless the scenario expects files)", r.Verdict, r.Problems)
	}
	noted := false
	for _, m := range r.Timeline {
		noted = noted || (m.Kind == MarkNote && m.What == "rollback files of a:1 not seen within 100ms")
	}
	if !noted {
		t.Errorf("no note of the missing archive in %+v", r.Timeline)
	}
}

func TestMeasureCountsOnlyTheRunsArchives(t *testing.T) {
	rec := killRecording()
	rec.Events = append(rec.Events,
		archive("before", "a:1", at(-500)), // before the fault: an earlier rollback
		archive("other", "c:1", at(4600)),  // c:1 was never primary in the run
	)
	r := Measure(rec)
	if r.RollbackFiles != 1 {
		t.Errorf("rollback files %d, want 1 (a:1's after the fault)", r.RollbackFiles)
	}
}

func TestMeasureFailsAnExpectedRollbackArchiveMissing(t *testing.T) {
	rec := killRecording()
	rec.Expect.RollbackFiles = true
	rec.Events = rec.Events[:3] // no archive
	r := Measure(rec)
	if r.Verdict != VerdictFail || !strings.Contains(strings.Join(r.Problems, "\n"), "a:1 rolled back but no archive") {
		t.Errorf("verdict %s, problems %q", r.Verdict, r.Problems)
	}
}
