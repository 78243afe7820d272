package recovery

import (
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/topology"
)

var t0 = time.Date(2025, 1, 1, 0, 10, 0, 0, time.UTC)

func up(state topology.MemberState) Observation {
	return Observation{Host: "h1:27017", Reachable: true, State: state, ObservedAt: t0,
		Process: Process{Known: true, Running: true, StartedAt: t0.Add(-time.Hour)}}
}

func TestClassify(t *testing.T) {
	opts := DefaultOptions()
	tests := []struct {
		name string
		obs  func() Observation
		want Kind
		ev   string // a piece of the evidence
	}{
		// The cases that must not lead to any step.
		{"primary", func() Observation { return up(topology.StatePrimary) }, Healthy, "PRIMARY"},
		{"secondary within max lag", func() Observation {
			o := up(topology.StateSecondary)
			o.Lag = 3 * time.Second
			return o
		}, Healthy, "3s behind"},
		{"recovering but not too stale is catching up, not a resync", func() Observation { return up(topology.StateRecovering) }, CatchingUp, "RECOVERING"},
		{"just started, not answering yet", func() Observation {
			o := up(topology.StateUnknown)
			o.Reachable, o.Process.StartedAt = false, t0.Add(-5*time.Second)
			return o
		}, Restarting, "started 5s ago"},
		{"no controller and no answer: unknown, never a guess", func() Observation {
			return Observation{Host: "h1:27017", ObservedAt: t0}
		}, Unknown, "does not answer"},
		{"one exit is no crash loop", func() Observation {
			o := up(topology.StateUnknown)
			o.Reachable, o.Process.Running, o.Process.RecentExits = false, false, 1
			return o
		}, Restarting, "not running"},
		{"initial sync making progress", func() Observation {
			o := up(topology.StateStartup2)
			o.InitialSync = &InitialSync{MaxAttempts: 10, Progress: t0.Add(-time.Minute), BytesCopied: 50, ApproxTotalBytes: 200}
			return o
		}, InitialSyncing, "25% copied"},

		// The cases that call for a step.
		{"secondary far behind", func() Observation {
			o := up(topology.StateSecondary)
			o.Lag = time.Minute
			return o
		}, CatchingUp, "more than 10s"},
		{"rolled back, files not archived", func() Observation {
			o := up(topology.StateSecondary)
			o.RollbackFiles = 2
			return o
		}, RolledBack, "2 rollback file(s)"},
		{"rollback in progress", func() Observation { return up(topology.StateRollback) }, RollbackInProgress, "ROLLBACK"},
		{"too stale", func() Observation {
			o := up(topology.StateRecovering)
			o.TooStale = true
			return o
		}, TooStale, "tooStale"},
		{"removed", func() Observation { return up(topology.StateRemoved) }, Removed, "REMOVED"},
		{"initial sync without progress", func() Observation {
			o := up(topology.StateStartup2)
			o.InitialSync = &InitialSync{MaxAttempts: 10, Progress: t0.Add(-11 * time.Minute)}
			return o
		}, InitialSyncStalled, "no progress for 11m0s"},
		{"initial sync out of attempts", func() Observation {
			o := up(topology.StateStartup2)
			o.InitialSync = &InitialSync{FailedAttempts: 10, MaxAttempts: 10, Progress: t0}
			return o
		}, InitialSyncStalled, "10 of 10 attempts failed"},
		{"unrecoverable rollback logged", func() Observation {
			o := up(topology.StateUnknown)
			o.Reachable, o.Process.Running = false, false
			o.Process.LastFatal = "UnrecoverableRollbackError: not willing to roll back more than 86400 seconds of data"
			return o
		}, UnrecoverableRollback, "UnrecoverableRollbackError"},
		{"crash loop out of ROLLBACK", func() Observation {
			o := up(topology.StateUnknown)
			o.Reachable, o.Process.Running, o.Process.RecentExits, o.Process.LastState = false, false, 3, topology.StateRollback
			return o
		}, UnrecoverableRollback, "out of ROLLBACK"},
		{"crash loop for another reason", func() Observation {
			o := up(topology.StateUnknown)
			o.Reachable, o.Process.Running, o.Process.RecentExits = false, false, 4
			o.Process.LastFatal = "Fatal assertion 28595"
			return o
		}, CrashLooping, "4 recent exits"},
		{"one exit on unreadable data is no crash loop yet", func() Observation {
			o := up(topology.StateUnknown)
			o.Reachable, o.Process.Running, o.Process.RecentExits = false, false, 1
			o.Process.LastFatal = "DBException in initAndListen, terminating (id 20557): open dbpath: invalid database"
			return o
		}, Restarting, "not running"},
		{"crash loop on unreadable data files", func() Observation {
			o := up(topology.StateUnknown)
			o.Reachable, o.Process.Running, o.Process.RecentExits = false, false, 3
			o.Process.LastFatal = "WiredTiger error (id 22435): WT_PANIC: WiredTiger library panic"
			return o
		}, DataCorrupt, "unreadable data files"},
		{"dbpath unusable comes first", func() Observation {
			o := up(topology.StateUnknown)
			o.Reachable, o.Process.Running = false, false
			o.DBPathProblem = "no space left on device (needs 1.2 GB)"
			return o
		}, DBPathUnusable, "no space left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Classify(tt.obs(), opts)
			if st.Kind != tt.want {
				t.Errorf("kind %s, want %s (evidence %q)", st.Kind, tt.want, st.Evidence)
			}
			if st.Remedy != tt.want.Remedy() {
				t.Errorf("remedy %s, want %s", st.Remedy, tt.want.Remedy())
			}
			if !strings.Contains(strings.Join(st.Evidence, "; "), tt.ev) {
				t.Errorf("evidence %q lacks %q", st.Evidence, tt.ev)
			}
		})
	}
}

// Only resync, archive and re-add change data or config; everything healthy or in progress waits.
func TestRemedies(t *testing.T) {
	acting := map[Kind]bool{UnrecoverableRollback: true, DataCorrupt: true, TooStale: true, InitialSyncStalled: true, RolledBack: true, Removed: true}
	for k := Kind(0); k < numKinds; k++ {
		r := k.Remedy()
		if got := r != RemedyNone && r != RemedyWait && r != RemedyOperator; got != acting[k] {
			t.Errorf("%s: remedy %s, acting %v, want %v", k, r, got, acting[k])
		}
		if k.String() == "unknown" && k != Unknown {
			t.Errorf("kind %d has no name", k)
		}
	}
}
