package supervisor

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo/mongotest"
)

// level makes every host's applied optime the primary's: the secondaries have caught up.
func (w *world) level() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range w.hosts {
		w.optime[h] = w.optime[w.primary]
	}
}

func refusedWith(t *testing.T, err error, reason string) {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) || e.Status != http.StatusConflict || e.Reason != reason || e.Result == nil {
		t.Fatalf("got %v, want a 409 refusal %s with its plan", err, reason)
	}
}

// Must not fire first: a dry run, a refused target and a failover of a healthy primary without
// force change nothing. Then a switchover asked of the arbiter sidecar runs on the primary's own
// sidecar: freeze the other secondary, step the primary down, step the target up, unfreeze; it
// is audited once (by its executor), appears once in every sidecar's history, and no automatic
// action fires during it.
func TestSwitchoverAskedOfAnySidecar(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)
		w.level()
		ctx := context.Background()
		d := c.sups["d"]
		// The plan freezes the other secondary only if d sees it healthy (its sidecar visible):
		// the analysis is healthy with 3 of the 4 sidecars, so wait for all of them.
		waitFor(t, 30*time.Second, "d sees every member healthy", func() bool {
			for _, m := range d.Cluster().Members {
				if !m.Healthy {
					return false
				}
			}
			return true
		})

		plan, err := d.Act(ctx, api.ActionSwitchover, "", api.ActionRequest{Actor: "ops", To: h2}, true)
		if err != nil || plan.State != api.StatePlanned || plan.Executor != "a" || plan.From != h1 || plan.To != h2 {
			t.Fatalf("dry run: %+v, %v", plan, err)
		}
		var dos []string
		for _, st := range plan.Steps {
			dos = append(dos, st.Do+" "+st.Host)
		}
		want := []string{"wait_catch_up " + h2, "freeze " + h3, "step_down " + h1, "step_up " + h2, "unfreeze " + h3}
		if len(dos) != len(want) {
			t.Fatalf("plan steps %q, want %q", dos, want)
		}
		for i := range want {
			if dos[i] != want[i] {
				t.Fatalf("plan steps %q, want %q", dos, want)
			}
		}
		_, err = d.Act(ctx, api.ActionSwitchover, "", api.ActionRequest{To: h1}, false)
		refusedWith(t, err, refusedTargetPrimary)
		_, err = d.Act(ctx, api.ActionFailover, "", api.ActionRequest{To: h2}, false)
		refusedWith(t, err, refusedPrimaryHealthy)
		var e *api.Error
		if _, err = d.Act(ctx, api.ActionSwitchover, "", api.ActionRequest{To: "nope:1"}, false); !errors.As(err, &e) || e.Status != 404 || e.Field != "to" {
			t.Fatalf("unknown target: %v", err)
		}
		for _, h := range []string{h1, h2, h3} {
			for _, op := range []mongotest.Op{mongotest.OpStepDown, mongotest.OpStepUp, mongotest.OpFreeze} {
				if n := w.calls(h, op); n != 0 {
					t.Fatalf("%s sent to %s before any real request", op, h)
				}
			}
		}

		res, err := d.Act(ctx, api.ActionSwitchover, "", api.ActionRequest{Actor: "ops", To: h2, Why: "kernel upgrade"}, false)
		if err != nil || res.State != api.StatePending {
			t.Fatalf("request: %+v, %v", res, err)
		}
		waitFor(t, 30*time.Second, "the switchover to end", func() bool {
			r, ok := d.Request(res.ID)
			return ok && r.State != api.StatePending && r.State != api.StateRunning
		})
		got, _ := d.Request(res.ID)
		if got.State != api.StateDone || got.Reason != reasonSwitchoverDone || got.Executor != "a" {
			t.Fatalf("switchover ended %+v", got)
		}
		for _, st := range got.Steps {
			if !strings.HasPrefix(st.Result, "ok (") {
				t.Errorf("step %s %s: %q", st.Do, st.Host, st.Result)
			}
		}
		downs := w.node("a", h1).CallsOf(mongotest.OpStepDown)
		if len(downs) != 1 || downs[0].Force || downs[0].CatchUp <= 0 {
			t.Errorf("a's stepdowns of h1: %+v", downs)
		}
		fr := w.node("a", h3).CallsOf(mongotest.OpFreeze)
		if len(fr) != 2 || fr[0].Secs != switchoverFreezeSecs || fr[1].Secs != 0 {
			t.Errorf("a's freezes of h3: %+v, want freeze then unfreeze", fr)
		}
		if w.calls(h2, mongotest.OpStepUp) == 0 {
			t.Error("h2 was never stepped up")
		}
		c.waitHealthy(h2)
		time.Sleep(5 * time.Second) // a few decisions in the new term
		for id, s := range c.sups {
			n := 0
			for _, ev := range s.History(api.HistoryQuery{Kind: api.EventAction}) {
				if ev.ID == "action:"+res.ID {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s's history has the switchover %d times, want once", id, n)
			}
			for _, rec := range c.audit(id) {
				if rec.Actor == actorAuto && rec.Result == ResultExecuted {
					t.Errorf("%s executed an automatic action during a switchover: %+v", id, rec)
				}
			}
		}
		var mine []AuditRecord
		for _, id := range []string{"a", "b", "c", "d"} {
			for _, rec := range c.audit(id) {
				if rec.Decision.Action == election.ActionKind(api.ActionSwitchover) {
					mine = append(mine, rec)
				}
			}
		}
		if len(mine) != 1 || mine[0].Sidecar != "a" || mine[0].Actor != "operator:ops" || mine[0].Why != "kernel upgrade" || mine[0].Result != ResultExecuted {
			t.Errorf("switchover audit lines: %+v, want one, by its executor a", mine)
		}
		cl := d.Cluster()
		if cl.Primary != h2 || cl.Health != api.HealthHealthy {
			t.Errorf("cluster after the switchover: primary %q health %s %v", cl.Primary, cl.Health, cl.Problems)
		}
	})
}

// A request whose executor never takes it (its sidecar is gone) ends as expired, by the sidecar
// that accepted it; pause and resume refuse what is already so.
func TestPauseResumeAcknowledgeRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)
		ctx := context.Background()
		b := c.sups["b"]
		_, err := b.Act(ctx, api.ActionResume, "", api.ActionRequest{Actor: "ops"}, false)
		refusedWith(t, err, refusedNotPaused)
		_, err = b.Act(ctx, api.ActionAcknowledge, "", api.ActionRequest{Actor: "ops"}, false)
		refusedWith(t, err, refusedNothingToAck)
		res, err := b.Act(ctx, api.ActionPause, "", api.ActionRequest{Actor: "ops", Why: "maintenance"}, false)
		if err != nil || res.State != api.StateDone {
			t.Fatalf("pause: %+v %v", res, err)
		}
		_, err = b.Act(ctx, api.ActionPause, "", api.ActionRequest{Actor: "ops"}, false)
		refusedWith(t, err, refusedAlreadyPaused)
		waitFor(t, 10*time.Second, "the pause everywhere", func() bool {
			for _, s := range c.sups {
				cl := s.Cluster()
				if cl.Paused == nil || cl.Paused.By != "operator:ops" || len(cl.AutomaticFailover.Blocked) == 0 || cl.Health != api.HealthDegraded {
					return false
				}
			}
			return true
		})
		if v, _ := metric(t, c.regs["c"], "rsguard_supervisor_failover_blocked", "reason", "operator_paused"); v != 1 {
			t.Errorf("c's failover_blocked{operator_paused} = %v, want 1", v)
		}
		if _, err := c.sups["d"].Act(ctx, api.ActionResume, "", api.ActionRequest{Actor: "ops"}, false); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the resume everywhere", func() bool {
			for _, s := range c.sups {
				if s.Cluster().Paused != nil {
					return false
				}
			}
			return true
		})
		for id, s := range c.sups {
			kinds := map[string]int{}
			for _, ev := range s.History(api.HistoryQuery{}) {
				kinds[ev.Kind]++
			}
			if kinds[api.EventPause] != 1 || kinds[api.EventResume] != 1 {
				t.Errorf("%s's history: %v, want one pause and one resume", id, kinds)
			}
		}
	})
}
