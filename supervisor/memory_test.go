package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo/mongotest"
	"github.com/rsguard/rsguard/topology"
)

// crash ends sidecar id as a SIGKILL would: its gossip goes silent first (no leave message, no
// last push), then its loops stop. It is removed from the cluster's bookkeeping.
func (c *cluster) crash(id string) {
	c.t.Helper()
	for i, m := range c.ms {
		if m.id == id {
			c.net.Kill(gossipAddr(i))
			defer c.net.Revive(gossipAddr(i))
		}
	}
	c.cancel[id]()
	<-c.done[id]
	delete(c.sups, id)
	delete(c.cancel, id)
	delete(c.done, id)
	delete(c.regs, id)
}

// restart starts sidecar i again with the same config and state_dir.
func (c *cluster) restart(i int) *Supervisor {
	c.t.Helper()
	return c.add(i, "")
}

// failoverOnce kills h1 and waits for the first failover (by the coordinator, a) to h2, then
// revives h1 as a secondary and waits out MongoDB's election quiet period.
func failoverOnce(t *testing.T, w *world, c *cluster) {
	t.Helper()
	w.kill(h1)
	waitFor(t, 15*time.Second, "first failover", func() bool { return w.calls(h2, mongotest.OpStepUp) == 1 })
	c.waitHealthy(h2)
	w.revive(h1)
	w.replicate()
	time.Sleep(15 * time.Second)
	c.waitHealthy(h2)
}

// replicate brings every member to the primary's optime, so that any of them could be the next
// candidate (without it the anti-flap gate is never reached: no candidate).
func (w *world) replicate() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range w.hosts {
		w.optime[h] = w.optime[w.primary]
	}
}

// The done-when of issue 8: the coordinating sidecar dies after a failover, the new primary dies
// 15 s later, and no sidecar runs a second automatic failover inside the anti-flap window: the
// new coordinator knows the first failover from the shared memory it merged from gossip.
func TestAntiFlapSurvivesCoordinatorCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)
		failoverOnce(t, w, c)
		for _, id := range []string{"b", "c", "d"} {
			if f := c.status(id).Policy.LastFailover; f.To != h2 {
				t.Errorf("%s does not know the failover made by a: %+v", id, f)
			}
		}

		c.crash("a")
		waitFor(t, 30*time.Second, "b coordinates", func() bool { return c.status("b").Coordinator == "b" })
		time.Sleep(15 * time.Second)
		w.kill(h2)
		waitFor(t, 15*time.Second, "anti-flap refusal on the new coordinator", func() bool {
			return c.status("b").Decision.Reason == election.RefusedAntiFlap
		})
		time.Sleep(10 * time.Second)
		if n := w.calls(h1, mongotest.OpStepUp) + w.calls(h3, mongotest.OpStepUp); n != 0 {
			t.Fatalf("second failover executed inside the anti-flap window after a coordinator change (%d step-ups)", n)
		}
		if recs := c.findAudit("b", election.StepUp, election.RefusedAntiFlap); len(recs) != 1 {
			t.Errorf("b audited the anti-flap refusal %d times, want once: %+v", len(recs), c.audit("b"))
		}
		// An operator acknowledges on c, not on the coordinator: the record reaches b by gossip.
		if err := c.sups["c"].Acknowledge("alice"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 15*time.Second, "the failover after the acknowledgement", func() bool {
			return w.calls(h1, mongotest.OpStepUp)+w.calls(h3, mongotest.OpStepUp) == 1
		})
	})
}

// A sidecar restarted with its state_dir reloads the memory at once; one restarted with a wiped
// state_dir relearns it from its peers. Either way a second failover stays blocked.
func TestMemorySurvivesRestartAndWipe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)
		failoverOnce(t, w, c)

		for i, id := range []string{"a", "b"} {
			c.crash(id)
			if id == "b" {
				if err := os.RemoveAll(filepath.Join(c.dir, "b", stateFile)); err != nil {
					t.Fatal(err)
				}
			}
			s := c.restart(i)
			s.mu.Lock()
			f := s.state.LastFailover
			s.mu.Unlock()
			switch {
			case id == "a" && f.To != h2:
				t.Errorf("a did not reload the failover from its state_dir: %+v", f)
			case id == "b" && !f.At.IsZero():
				t.Errorf("b's state_dir was wiped, yet it starts with a failover: %+v", f)
			}
		}
		waitFor(t, 30*time.Second, "b relearns the failover from its peers", func() bool {
			return c.status("b").Policy.LastFailover.To == h2
		})
		c.waitHealthy(h2)
		w.kill(h2)
		waitFor(t, 15*time.Second, "anti-flap refusal after the restarts", func() bool {
			return c.status("a").Decision.Reason == election.RefusedAntiFlap
		})
		time.Sleep(5 * time.Second)
		if n := w.calls(h1, mongotest.OpStepUp) + w.calls(h3, mongotest.OpStepUp); n != 0 {
			t.Fatalf("second failover after a restart (%d step-ups)", n)
		}
	})
}

// A pause stops every automatic action on every sidecar, whoever was asked; a resume lifts it.
// Both are audited with the operator's name.
func TestPauseResumeAcrossSidecars(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)

		if err := c.sups["c"].Pause("bob", "index build"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the pause reaches the coordinator", func() bool {
			return c.status("a").Policy.Memory.Pause.Paused
		})
		w.kill(h1)
		waitFor(t, 15*time.Second, "refused_paused", func() bool {
			return c.status("a").Decision.Reason == election.RefusedPaused
		})
		time.Sleep(5 * time.Second)
		if n := w.calls(h2, mongotest.OpStepUp) + w.calls(h3, mongotest.OpStepUp); n != 0 {
			t.Fatalf("a failover ran while paused (%d step-ups)", n)
		}
		if err := c.sups["b"].Resume("bob", "done"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 15*time.Second, "the failover after the resume", func() bool {
			return w.calls(h2, mongotest.OpStepUp)+w.calls(h3, mongotest.OpStepUp) == 1
		})
		var got []string
		for _, id := range []string{"b", "c"} {
			for _, r := range c.audit(id) {
				if r.Actor == "operator:bob" {
					got = append(got, fmt.Sprintf("%s:%s:%s", r.Decision.Action, r.Reason, r.Why))
				}
			}
		}
		want := []string{"resume:operator_resumed:done", "pause:operator_paused:index build"}
		if !slices.Equal(got, want) {
			t.Errorf("operator audit lines on b and c: %v, want %v", got, want)
		}
		if st := c.status("a"); st.Policy.Memory.Pause.Paused || st.Policy.Memory.Pause.By != "operator:bob" {
			t.Errorf("a's pause record after the resume: %+v", st.Policy.Memory.Pause)
		}
	})
}

// The shared memory is the durable part of the state: it survives saveState/loadState whole,
// while the local pending action does not.
func TestStateFileKeepsMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), stateFile)
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	inc := election.Incident{Primary: h1, Term: 3}
	st := election.State{Pending: election.Pending{Action: election.Action{Kind: election.StepUp, Host: h2}}}
	st.Memory.Failovers = map[string]topology.FailoverRecord{inc.Key(): {Incident: inc, At: at, To: h2, By: "a", Reason: "primary_process_dead"}}
	st = st.AcknowledgeBy(at.Add(time.Minute), "operator:alice").
		RecordFreeze(h1, at.Add(2*time.Minute), "b").
		SetPaused(true, at.Add(3*time.Minute), "operator:bob", "upgrade")
	if err := saveState(path, st); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if !election.SameMemory(got.Memory, st.Memory) || !got.Pending.Action.IsNone() {
		t.Errorf("round trip:\n got %+v\nwant %+v", got.Memory, st.Memory)
	}
}
