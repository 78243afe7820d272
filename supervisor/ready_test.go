package supervisor

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/mongo/mongotest"
)

func hasReason(reasons []string, part string) bool {
	return slices.ContainsFunc(reasons, func(r string) bool { return strings.Contains(r, part) })
}

// A mongod of another replica set: the sidecar keeps running, says why it is not ready, never
// acts and stays out of gossip, so that although it has the lowest id it does not become the
// coordinator the others would defer to: the failover still happens, run by the candidate's own
// sidecar.
func TestWrongSetNameIsNotReadyAndNeverActs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h2)
		w.setOf[h1] = "other"
		w.optime[h3] = w.optime[h1]
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		waitFor(t, 10*time.Second, "b coordinates", func() bool {
			st := c.status("c")
			return st.Ready && st.Coordinator == "b" && st.Analysis.Kind == election.Healthy
		})
		st := c.status("a")
		if st.Ready || !hasReason(st.NotReady, `belongs to replica set "other" but replica_set is "rs0"`) {
			t.Errorf("a: ready %v, reasons %q", st.Ready, st.NotReady)
		}
		if st.Local != nil || !strings.Contains(st.LocalError, "other") {
			t.Errorf("a reports a local view of another set: %+v / %q", st.Local, st.LocalError)
		}
		if ok, reasons := c.sups["a"].Ready(); ok || len(reasons) == 0 {
			t.Errorf("Ready() = %v %q", ok, reasons)
		}
		if v, _ := metric(t, c.regs["a"], "rsguard_supervisor_ready"); v != 0 {
			t.Errorf("ready gauge %v", v)
		}
		if st := c.status("c"); st.Coordinator != "b" || slices.Contains(st.Quorum.Visible, "a") {
			t.Errorf("c: coordinator %q, visible %v", st.Coordinator, st.Quorum.Visible)
		}

		w.kill(h2)
		waitFor(t, 15*time.Second, "failover by c", func() bool { return w.calls(h3, mongotest.OpStepUp) == 1 })
		if n := len(w.node("c", h3).CallsOf(mongotest.OpStepUp)); n != 1 {
			t.Errorf("c sent %d step-ups to its own mongod", n)
		}
		if n := len(w.node("a", h3).CallsOf(mongotest.OpStepUp)); n != 0 {
			t.Errorf("the not-ready a sent %d step-ups", n)
		}
		if st := c.status("a"); st.Decision.Reason != ReasonNotReady {
			t.Errorf("a decided %s", st.Decision.Reason)
		}

		// Its mongod, last seen answering for another set, dies: silence does not make it ours.
		w.kill(h1)
		time.Sleep(5 * time.Second) // fake time: several probe intervals
		if st := c.status("a"); st.Ready || !hasReason(st.NotReady, `belongs to replica set "other"`) {
			t.Errorf("a became ready after its wrong-set mongod died: ready %v, reasons %q", st.Ready, st.NotReady)
		}
	})
}

// A mongod that is no replica-set member at all (not started with --replSet).
func TestNotAReplicaSetMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		w.node("c", h3).Fail(mongotest.OpStatus, mongotest.CommandError(mongo.CodeNoReplicationEnabled, "NoReplicationEnabled", "not running with --replSet"))
		waitFor(t, 10*time.Second, "reason", func() bool {
			return hasReason(c.status("c").NotReady, "not a replica-set member")
		})
		if c.status("c").Ready {
			t.Error("c ready")
		}
	})
}

// Seeds unreachable: the sidecar runs, is not ready because gossip never settles, and without a
// quorum would never act anyway.
func TestUnsettledGossipIsNotReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData[:0], "")
		c.ms = threeData
		c.add(0, "") // a alone: b, c, d never start
		defer c.stop()
		time.Sleep(10 * time.Second)
		st := c.status("a")
		if st.Ready || !hasReason(st.NotReady, "gossip has not settled") {
			t.Errorf("a alone: ready %v, reasons %q", st.Ready, st.NotReady)
		}
		if st.Local == nil || !st.Local.Reachable {
			t.Errorf("a does not observe its mongod while unsettled: %+v", st.Local)
		}
		if st.Decision.Reason != ReasonNotReady || st.Analysis.Kind != election.LostQuorum {
			t.Errorf("decision: %s / %s", st.Analysis.Kind, st.Decision.Reason)
		}
	})
}

// The local mongod has never answered: not ready, with the error.
func TestLocalMongodNeverAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		w.cut("b", h2)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		waitFor(t, 10*time.Second, "others ready", func() bool { return c.status("a").Ready })
		st := c.status("b")
		if st.Ready || !hasReason(st.NotReady, "has not answered yet") {
			t.Errorf("b: ready %v, reasons %q", st.Ready, st.NotReady)
		}
	})
}
