package supervisor

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo/mongotest"
)

// isolateHost cuts the whole host of ms[i] off, as the e2e Firewall.Isolate does: its sidecar's
// gossip from every other sidecar, and its mongod from every other sidecar's probes (timeouts:
// dropped packets, not refused connections). Its own sidecar still reaches it.
func (c *cluster) isolateHost(i int) {
	var others []string
	for j, m := range c.ms {
		if j == i {
			continue
		}
		others = append(others, gossipAddr(j))
		c.w.cut(m.id, c.ms[i].host)
	}
	c.net.Partition([]string{gossipAddr(i)}, others)
}

// healHost undoes isolateHost.
func (c *cluster) healHost(i int) {
	for j, m := range c.ms {
		if j != i {
			c.w.node(m.id, c.ms[i].host).FailAll(nil)
		}
	}
	c.net.HealAll()
}

func (c *cluster) actionCalls() int {
	n := 0
	for _, h := range c.w.hosts {
		n += c.w.calls(h, mongotest.OpStepUp) + c.w.calls(h, mongotest.OpStepDown) + c.w.calls(h, mongotest.OpShutdown)
	}
	return n
}

// The must-not-fire case first: the primary's host goes silent for less than
// probe.unreachable_after (a network blip) and comes back. Every sidecar lost it, and its own
// sidecar is out of sight too: the same picture as a frozen host, but too short to be one.
func TestBlipShorterThanUnreachableAfterDoesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)

		c.isolateHost(0)
		time.Sleep(2500 * time.Millisecond) // the e2e soak's blips are 2 s
		c.healHost(0)
		time.Sleep(30 * time.Second)
		if n := c.actionCalls(); n != 0 {
			t.Errorf("%d actions after a 2.5s blip of the primary's host (unreachable_after 3s)", n)
		}
		for id := range c.sups {
			if st := c.status(id); st.Analysis.Kind != election.Healthy {
				t.Errorf("%s after the blip: %s (%s)", id, st.Analysis.Kind, st.Decision.Reason)
			}
		}
	})
}

// The same silence, lasting: after probe.unreachable_after (and not before) the sidecars agree
// the host is lost and the best secondary's own sidecar steps it up.
func TestSilenceLongerThanUnreachableAfterFailsOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)

		c.isolateHost(0)
		took := waitFor(t, 30*time.Second, "a step-up", func() bool {
			return w.calls(h2, mongotest.OpStepUp)+w.calls(h3, mongotest.OpStepUp) > 0
		})
		if took < 3*time.Second {
			t.Errorf("stepped up %s after the host went silent: before probe.unreachable_after (3s)", took)
		}
		if ups := c.findAudit("b", election.StepUp, election.ReasonPrimaryHostUnreachable); len(ups) == 0 {
			t.Errorf("b's audit lacks the step-up for primary_host_unreachable: %+v", c.audit("b"))
		}
	})
}
