package supervisor

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/mongo/mongotest"
	"github.com/rsguard/rsguard/topology"
)

// Secondaries lag, the primary is healthy: every w:"majority" probe times out (WriteConcernFailed
// 64), every w:1 j:true probe succeeds. For far longer than sick_after nothing may be done; the
// sidecars report replication_lagging, audit it once, count it and raise the gauges.
func TestLaggingSecondariesNeverFailOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)

		w.mu.Lock()
		p := w.optime[h1]
		w.optime[h2] = topology.MakeOpTime(p.Secs()-5, 1, 3)
		w.optime[h3] = topology.MakeOpTime(p.Secs()-7, 1, 3)
		w.mu.Unlock()
		w.failProbe(h1, mongotest.OpWriteProbe, mongotest.WriteConcernError(mongo.CodeWriteConcernFailed, "WriteConcernFailed", "waiting for replication timed out"))
		waitFor(t, 15*time.Second, "replication_lagging everywhere", func() bool {
			for id := range c.sups {
				if c.status(id).Analysis.Kind != election.ReplicationLagging {
					return false
				}
			}
			return true
		})
		time.Sleep(60 * time.Second) // fake time: six times sick_after
		for _, h := range []string{h1, h2, h3} {
			if n := w.calls(h, mongotest.OpStepUp) + w.calls(h, mongotest.OpStepDown) + w.calls(h, mongotest.OpShutdown) + w.calls(h, mongotest.OpFreeze); n != 0 {
				t.Errorf("%d actions on %s while only the secondaries lag", n, h)
			}
		}
		st := c.status("a")
		if st.Analysis.Kind != election.ReplicationLagging || st.Decision.Reason != election.RefusedReplicationLagging || st.Analysis.Primary != h1 {
			t.Errorf("coordinator: %s / %s / %s; evidence %q", st.Analysis.Kind, st.Decision.Reason, st.Analysis.Primary, st.Analysis.Evidence)
		}
		if st.JournalProbe.Target != h1 || st.JournalProbe.LastOK.IsZero() || st.JournalProbe.ConsecutiveFails != 0 {
			t.Errorf("w:1 j:true probe in the status: %+v", st.JournalProbe)
		}
		for _, id := range []string{"a", "b", "c", "d"} {
			if n := len(c.findAudit(id, election.None, election.RefusedReplicationLagging)); n != 1 {
				t.Errorf("%s audited replication_lagging %d times, want once: %+v", id, n, c.audit(id))
			}
		}
		if n, _ := metric(t, c.regs["a"], "rsguard_supervisor_decisions_total", "reason", "refused_replication_lagging"); n < 20 {
			t.Errorf("lagging decisions counted %v times in a minute", n)
		}
		if v, ok := metric(t, c.regs["d"], "rsguard_supervisor_replication_lagging"); !ok || v != 1 {
			t.Errorf("rsguard_supervisor_replication_lagging = %v (%v), want 1", v, ok)
		}
		if v, _ := metric(t, c.regs["a"], "rsguard_supervisor_max_secondary_lag_seconds"); v != 7 {
			t.Errorf("rsguard_supervisor_max_secondary_lag_seconds = %v, want 7", v)
		}

		// Released: the gauge drops, the set is healthy again, still no action.
		w.failProbe(h1, mongotest.OpWriteProbe, nil)
		w.mu.Lock()
		w.optime[h2], w.optime[h3] = p, p
		w.mu.Unlock()
		c.waitHealthy(h1)
		if v, _ := metric(t, c.regs["d"], "rsguard_supervisor_replication_lagging"); v != 0 {
			t.Errorf("rsguard_supervisor_replication_lagging = %v after the lag, want 0", v)
		}
		if n := w.calls(h2, mongotest.OpStepUp) + w.calls(h3, mongotest.OpStepUp); n != 0 {
			t.Errorf("%d step-ups", n)
		}
	})
}
