package supervisor

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo/mongotest"
	"github.com/rsguard/rsguard/topology"
)

// arbiterFirst puts the arbiter sidecar at the lowest id, so that it coordinates: the usual
// layout of a set whose arbiter sidecar holds no credentials.
var arbiterFirst = []member{
	{"arb", "", "z3"}, {"b", h1, "z1"}, {"c", h2, "z2"}, {"d", h3, "z3"},
}

// The primary's mongod crashes while an arbiter sidecar without credentials coordinates: the
// candidate's own sidecar steps its local mongod up, and the arbiter sidecar sends nothing to
// any mongod but hello-level probes (on an auth set every command it sent would fail).
func TestArbiterCoordinatorWithoutCredentialsNeverExecutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		w.optime[h2] = w.optime[h1] // h2 is the freshest secondary
		w.promoteAfter = 2 * time.Second
		c := newCluster(t, w, arbiterFirst, "")
		defer c.stop()
		c.waitHealthy(h1)
		if co := c.status("b").Coordinator; co != "arb" {
			t.Fatalf("coordinator %q, want the arbiter sidecar (test premise)", co)
		}

		w.kill(h1)
		waitFor(t, 15*time.Second, "step-up of h2", func() bool { return w.calls(h2, mongotest.OpStepUp) > 0 })
		waitFor(t, 15*time.Second, "h2 primary", func() bool {
			a := c.status("arb").Analysis
			return a.Kind == election.Healthy && a.Primary == h2
		})
		time.Sleep(20 * time.Second) // past the pending timeout
		if n := len(w.node("c", h2).CallsOf(mongotest.OpStepUp)); n != 1 || w.calls(h2, mongotest.OpStepUp) != 1 {
			t.Errorf("c sent %d step-ups to its own mongod, %d in all; want 1", n, w.calls(h2, mongotest.OpStepUp))
		}
		for _, h := range []string{h1, h2, h3} {
			n := w.node("arb", h)
			if k := len(n.CallsOf(mongotest.OpStepUp)) + len(n.CallsOf(mongotest.OpStepDown)) +
				len(n.CallsOf(mongotest.OpFreeze)) + len(n.CallsOf(mongotest.OpShutdown)); k != 0 {
				t.Errorf("the arbiter sidecar sent %d commands to %s", k, h)
			}
		}
		recs := c.findAudit("c", election.StepUp, election.ReasonPrimaryProcessDead)
		if len(recs) != 1 || recs[0].Result != ResultExecuted || recs[0].Decision.Executor != "c" || recs[0].Coordinator != "arb" {
			t.Errorf("c's audit: %+v", c.audit("c"))
		}
		recs = c.findAudit("arb", election.StepUp, election.RefusedNotExecutor)
		if len(recs) != 1 || recs[0].Decision.Executor != "c" || recs[0].Coordinator != "arb" {
			t.Errorf("the arbiter sidecar's audit does not say c executes: %+v", c.audit("arb"))
		}
		c.sups["arb"].mu.Lock()
		remote := c.sups["arb"].ownView.Remote
		c.sups["arb"].mu.Unlock()
		if remote {
			t.Error("an arbiter sidecar without credentials advertises that it can act on members")
		}
	})
}

// An arbiter sidecar without TLS settings on a TLS set: every hello it sends fails in the
// handshake. It must not read that as "unreachable" (a false witness for "lost"), yet once the
// primary's port is closed (refused) it is a witness again, and the failover still happens.
func TestArbiterSidecarWithoutTLSHasNoFalseOpinion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		w.optime[h2] = w.optime[h1]
		w.promoteAfter = 2 * time.Second
		handshake := errors.New("connection(127.0.0.2:27017[-1]) incomplete read of message header: EOF")
		for _, h := range []string{h1, h2, h3} {
			w.node("arb", h).FailAll(handshake)
		}
		c := newCluster(t, w, arbiterFirst, "")
		defer c.stop()
		c.waitHealthy(h1)
		time.Sleep(5 * time.Second) // several probe rounds of failed handshakes
		st := c.status("b")
		if st.Analysis.Kind != election.Healthy {
			t.Fatalf("b: %s (%s): the arbiter sidecar's failed handshakes count as a lost primary", st.Analysis.Kind, st.Decision.Reason)
		}
		c.sups["arb"].mu.Lock()
		v := c.sups["arb"].ownView
		c.sups["arb"].mu.Unlock()
		if r := v.Reaches(h1); r != topology.ReachUnknown {
			t.Errorf("the arbiter sidecar says %v about h1 although it never reached it: %+v", r, v)
		}

		w.kill(h1)
		waitFor(t, 15*time.Second, "step-up of h2", func() bool { return w.calls(h2, mongotest.OpStepUp) > 0 })
		if n := len(w.node("c", h2).CallsOf(mongotest.OpStepUp)); n != 1 {
			t.Errorf("c sent %d step-ups to its own mongod, want 1", n)
		}
	})
}
