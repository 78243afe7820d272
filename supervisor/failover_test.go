package supervisor

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo/mongotest"
)

// The primary's mongod crashes: every sidecar is refused, its own one first-hand. The freshest
// secondary's own sidecar (b, not the coordinator a) steps its local mongod up within a few ticks,
// exactly once although the election takes a while, and audits it as primary_process_dead; the
// coordinator audits that b executes it.
func TestCrashedPrimaryStepsUpFreshestOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		w.promoteAfter = 3 * time.Second
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)

		w.kill(h1)
		took := waitFor(t, 15*time.Second, "step-up of h2", func() bool { return w.calls(h2, mongotest.OpStepUp) > 0 })
		t.Logf("replSetStepUp sent %v after the crash (fake time)", took)
		waitFor(t, 15*time.Second, "h2 primary everywhere", func() bool {
			for id := range c.sups {
				if a := c.status(id).Analysis; a.Kind != election.Healthy || a.Primary != h2 {
					return false
				}
			}
			return true
		})
		time.Sleep(20 * time.Second) // past the pending timeout
		if n := w.calls(h2, mongotest.OpStepUp); n != 1 {
			t.Errorf("replSetStepUp on h2 sent %d times, want 1", n)
		}
		if n := w.calls(h3, mongotest.OpStepUp); n != 0 {
			t.Errorf("replSetStepUp on the staler h3 sent %d times", n)
		}
		if n := len(w.node("b", h2).CallsOf(mongotest.OpStepUp)); n != 1 {
			t.Errorf("b sent %d step-ups to its own mongod, want 1", n)
		}
		recs := c.findAudit("b", election.StepUp, election.ReasonPrimaryProcessDead)
		if len(recs) != 1 || recs[0].Result != ResultExecuted || recs[0].Decision.Target != h2 ||
			recs[0].Decision.Executor != "b" || recs[0].Coordinator != "a" ||
			recs[0].Actor != "auto" || recs[0].Analysis.Kind != election.PrimaryProcessDead || len(recs[0].Analysis.Evidence) == 0 {
			t.Errorf("audit of b: %+v", c.audit("b"))
		}
		if recs := c.findAudit("a", election.StepUp, election.RefusedNotExecutor); len(recs) != 1 ||
			recs[0].Decision.Executor != "b" || recs[0].Coordinator != "a" || recs[0].Analysis.Kind != election.PrimaryProcessDead {
			t.Errorf("the coordinator's audit does not say b executes: %+v", c.audit("a"))
		}
		for _, id := range []string{"a", "c", "d"} {
			if recs := c.findAudit(id, election.StepUp, election.ReasonPrimaryProcessDead); len(recs) != 0 {
				t.Errorf("%s audited a step-up it did not execute: %+v", id, recs)
			}
		}
		if n, _ := metric(t, c.regs["a"], "rsguard_supervisor_failover_duration_seconds"); n < 1 {
			t.Errorf("failover duration not observed on a")
		}
		if n, _ := metric(t, c.regs["b"], "rsguard_supervisor_decisions_total", "action", "step_up", "reason", "refused_action_pending"); n < 1 {
			t.Errorf("no pending refusal counted while the election ran")
		}
		st := c.status("d")
		if st.Mode != "arbiter" || st.Local != nil || st.LastAction != nil {
			t.Errorf("arbiter status: %+v", st)
		}
	})
}

// One sidecar loses the primary (a cut link): never "dead", nothing is done.
func TestSingleObserverCutOffDoesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)

		w.cut("c", h1)
		waitFor(t, 10*time.Second, "c notices", func() bool {
			return c.status("c").Analysis.Kind == election.PrimaryUnreachableFromMeOnly
		})
		time.Sleep(30 * time.Second)
		for _, h := range []string{h1, h2, h3} {
			if n := w.calls(h, mongotest.OpStepUp) + w.calls(h, mongotest.OpStepDown) + w.calls(h, mongotest.OpShutdown); n != 0 {
				t.Errorf("%d actions on %s after one observer lost the primary", n, h)
			}
		}
		st := c.status("a")
		if st.Analysis.Kind != election.PrimaryUnreachableUncorroborated || st.Decision.Reason != election.RefusedNotCorroborated {
			t.Errorf("coordinator: %s / %s", st.Analysis.Kind, st.Decision.Reason)
		}
		// Changes only: the probe may fail (sick_primary_uncorroborated) before the hello does
		// (primary_unreachable_from_me_only); each pair is written once, not every tick.
		recs := c.audit("c")
		seen := map[string]bool{}
		for _, r := range recs {
			key := r.Analysis.Kind.String() + "/" + string(r.Reason)
			if seen[key] {
				t.Errorf("c audited %s twice: %+v", key, recs)
			}
			seen[key] = true
		}
		if !seen["primary_unreachable_from_me_only/refused_not_corroborated"] {
			t.Errorf("c's audit lacks the refusal: %+v", recs)
		}
		if n, _ := metric(t, c.regs["c"], "rsguard_supervisor_refusals_total", "reason", "refused_not_corroborated"); n < 20 {
			t.Errorf("refusals counted %v times in 30s, want one per tick", n)
		}
	})
}

// A sick primary (its disk stalls: write probes time out, heartbeats flow) seen by every sidecar
// for longer than sick_after: the best secondary's own sidecar steps it up. The old primary keeps
// claiming PRIMARY in the older term; after fence_after its own sidecar (not the coordinator)
// stops it.
func TestSickPrimaryStepUpThenOwnSidecarFences(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h3)
		w.optime[h2] = w.optime[h3] // h2 fully caught up, h1 behind
		w.keepStale = true
		c := newCluster(t, w, threeData, "failover:\n  fence_after: 5s\n")
		defer c.stop()
		c.waitHealthy(h3)

		w.failProbes(h3, mongotest.Timeout())
		stalled := time.Now()
		waitFor(t, 30*time.Second, "step-up of h2", func() bool { return w.calls(h2, mongotest.OpStepUp) > 0 })
		t.Logf("step-up %v after the stall (fake time; sick_after 5s)", time.Since(stalled))
		waitFor(t, 10*time.Second, "split brain seen", func() bool {
			return c.status("a").Analysis.Kind == election.SplitBrainSuspected
		})
		waitFor(t, 30*time.Second, "fence of h3", func() bool { return w.calls(h3, mongotest.OpShutdown) > 0 })
		if n := len(w.node("c", h3).CallsOf(mongotest.OpShutdown)); n != 1 {
			t.Errorf("c sent %d shutdowns to its own mongod, want 1", n)
		}
		if sd := w.node("c", h3).CallsOf(mongotest.OpShutdown); len(sd) == 1 && !sd[0].Force {
			t.Errorf("fence without force: %+v", sd[0])
		}
		waitFor(t, 15*time.Second, "healthy on h2", func() bool {
			a := c.status("a").Analysis
			return a.Kind == election.Healthy && a.Primary == h2
		})
		if n := w.calls(h3, mongotest.OpShutdown); n != 1 {
			t.Errorf("%d shutdowns of h3, want 1", n)
		}
		if recs := c.findAudit("b", election.StepUp, election.ReasonSickPrimary); len(recs) != 1 || recs[0].Decision.Target != h2 {
			t.Errorf("b's audit: %+v", c.audit("b"))
		}
		if recs := c.findAudit("c", election.Fence, election.ReasonStalePrimaryFence); len(recs) != 1 || recs[0].Result != ResultExecuted {
			t.Errorf("c's audit: %+v", c.audit("c"))
		}
		if recs := c.findAudit("a", election.Fence, election.ReasonStalePrimaryFence); len(recs) != 0 {
			t.Errorf("the coordinator audited a fence it did not run: %+v", recs)
		}
	})
}

// Dry run: the decision is made and audited, nothing is executed.
func TestDryRunExecutesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "failover:\n  dry_run: true\n")
		defer c.stop()
		c.waitHealthy(h1)
		w.kill(h1)
		waitFor(t, 10*time.Second, "dry-run decision", func() bool {
			return c.status("a").Decision.Reason == election.RefusedDryRun
		})
		time.Sleep(20 * time.Second)
		if n := w.calls(h2, mongotest.OpStepUp) + w.calls(h3, mongotest.OpStepUp); n != 0 {
			t.Errorf("dry run sent %d step-ups", n)
		}
		recs := c.findAudit("a", election.StepUp, election.RefusedDryRun)
		if len(recs) != 1 || recs[0].Result != ResultDryRun || recs[0].Decision.Target != h2 || recs[0].Analysis.Kind != election.PrimaryProcessDead {
			t.Errorf("a's audit: %+v", c.audit("a"))
		}
		if st := c.status("a"); st.Decision.Proposed.Kind != election.StepUp || !st.Decision.Action.IsNone() || !st.Policy.DryRun {
			t.Errorf("status decision: %+v policy %+v", st.Decision, st.Policy)
		}

		// SIGHUP with dry_run off: the next decision acts.
		for id, s := range c.sups {
			s.mu.Lock()
			next := *s.cfg
			s.mu.Unlock()
			next.Failover.DryRun = false
			if err := s.Reload(&next); err != nil {
				t.Fatalf("%s: reload: %v", id, err)
			}
		}
		waitFor(t, 5*time.Second, "step-up after reload", func() bool { return w.calls(h2, mongotest.OpStepUp) == 1 })
		bad := *c.sups["b"].cfg
		bad.ID = "zz"
		if err := c.sups["b"].Reload(&bad); err == nil {
			t.Error("reload accepted a new id")
		}
	})
}

// A disabled policy observes and reports only.
func TestDisabledPolicyRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "failover:\n  enabled: false\n")
		defer c.stop()
		c.waitHealthy(h1)
		w.kill(h1)
		waitFor(t, 10*time.Second, "refusal", func() bool {
			return c.status("a").Decision.Reason == election.RefusedPolicyDisabled
		})
		time.Sleep(10 * time.Second)
		if n := w.calls(h2, mongotest.OpStepUp) + w.calls(h3, mongotest.OpStepUp); n != 0 {
			t.Errorf("disabled policy sent %d step-ups", n)
		}
		recs := c.findAudit("a", election.StepUp, election.RefusedPolicyDisabled)
		if len(recs) != 1 || recs[0].Result != ResultRefused {
			t.Errorf("a's audit: %+v", c.audit("a"))
		}
	})
}
