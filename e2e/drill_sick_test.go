package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/election"
)

// How long the set must stay stuck behind a stalled primary without rsguard: MongoDB's own
// failover (electionTimeoutMillis 10 s + jitter) would have happened well within it if heartbeats
// had stopped, and they do not. The claim ("MongoDB alone does not recover within 60 s")
// is held under `make drill` and `make bench-failover` ($RSGUARD_DRILL_RUNS set); the default
// suite holds a short form.
const (
	sickStuckShort = 15 * time.Second
	sickStuckLong  = 60 * time.Second
)

func sickStuckWindow() time.Duration { return shortOrFull(sickStuckShort, sickStuckLong) }

// TestDrillSickPrimary: the primary's disk stalls (Host.DiskStall: the mongoemuDiskStall fail
// point, fsyncLock on a real mongod): writes block while hello and heartbeats keep flowing, so
// MongoDB never fails over by itself. Three phases on one set:
//
//  1. supervisor off: no new primary for sickStuckWindow() (60 s under make drill), the workload's writes time out;
//  2. sidecars with failover.enabled: false: they diagnose sick_primary and refuse with
//     refused_policy_disabled (status and audit), and nothing changes;
//  3. failover.enabled: true (SIGHUP reload): the sidecars step a secondary up (and fence the
//     stalled primary if it cannot step down): a writable new primary, reported (target 10 s).
//
// The stall is turned off at the end of each phase (and at cleanup), so every process can stop.
func TestDrillSickPrimary(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	ctx := context.Background()
	rep := newDrillReport("Drill 3: sick primary (disk stall; hello and heartbeats keep flowing)")
	var stalled []*harness.Host
	t.Cleanup(func() { // before the cluster's cleanup (LIFO): never leave a stalled mongod behind
		for _, h := range stalled {
			if h.Running() {
				_ = h.DiskStall(context.Background(), false)
			}
		}
	})
	stall := func(h *harness.Host) {
		t.Helper()
		if err := h.DiskStall(ctx, true); err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, h)
	}
	unstall := func(h *harness.Host) {
		t.Helper()
		if !h.Running() {
			return
		}
		if err := h.DiskStall(ctx, false); err != nil {
			t.Errorf("turn the stall off on %s: %v", h, err)
		}
	}

	// Phase 1: MongoDB alone stays stuck.
	t.Run("supervisor-off", func(t *testing.T) {
		p := d.WaitHealthy(t, drillRejoinTimeout)
		w := startWorkload(t, d, "sick_off")
		waitAcks(t, w, 5)
		term0, err := d.term(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		d.c.Timeline.Mark("phase 1 (no sidecars): disk stall on primary %s", p)
		t0 := time.Now()
		stall(p)
		holdWhile(t, sickStuckWindow(), "the stuck set without rsguard", func(ctx context.Context) error {
			if np, _, err := d.newPrimary(ctx, p, 300*time.Millisecond); err == nil {
				return fmt.Errorf("%s became primary after %s: MongoDB failed over by itself", np, secs(time.Since(t0)))
			}
			if op, ok := w.firstAckAfter(t0.Add(drillWriteTimeout)); ok {
				return fmt.Errorf("write _id %d acknowledged during the stall", op.ID)
			}
			return nil
		})
		failed, first := w.failuresAfter(t0)
		term1, err := d.term(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if term1 != term0 || !stillPrimary(ctx, p) {
			t.Errorf("term %d -> %d, %s still primary: %v", term0, term1, p, stillPrimary(ctx, p))
		}
		rep.note("supervisor off: %s stayed PRIMARY in term %d for %s of stall, no other member was elected; %d writes failed (first: %v) and none was acknowledged",
			p, term1, sickStuckWindow(), failed, short(first))
		if failed == 0 {
			t.Errorf("no write failed during the stall: is the stall effective?")
		}
		unstall(p)
		d.c.Timeline.Mark("phase 1: stall off")
		d.WaitHealthy(t, drillRejoinTimeout)
		if _, err := w.waitAckAfter(ctx, time.Now(), 30*time.Second); err != nil {
			t.Fatalf("writes do not resume after the stall: %v", err)
		}
		w.verify(t, d.WaitHealthy(t, drillRejoinTimeout))
	})
	if t.Failed() {
		return
	}

	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{FailoverDisabled: true})
	cars.Start(t)

	// Phase 2: failover.enabled: false: diagnosis and refusal, no action.
	t.Run("failover-disabled", func(t *testing.T) {
		d.WaitHealthy(t, drillRejoinTimeout)
		cars.WaitSettled(t, drillSettleTimeout)
		p := d.WaitHealthy(t, drillRejoinTimeout)
		term0, err := d.term(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		d.c.Timeline.Mark("phase 2 (failover.enabled: false): disk stall on primary %s", p)
		t0 := time.Now()
		stall(p)
		var seen string
		harness.WaitFor(t, 40*time.Second, "a sidecar reporting sick_primary refused by policy", func(ctx context.Context) error {
			if np, _, err := d.newPrimary(ctx, p, 200*time.Millisecond); err == nil {
				return harness.Abort(fmt.Errorf("%s became primary with failover disabled", np))
			}
			for _, c := range cars.cars {
				r, err := cars.Status(ctx, c)
				if err != nil {
					return err
				}
				if r.Analysis.Kind == election.SickPrimary && r.Decision.Reason == election.RefusedPolicyDisabled {
					seen = fmt.Sprintf("%s: analysis %s (primary %s), proposed %s %s, reason %s", c.ID, r.Analysis.Kind,
						r.Analysis.Primary, r.Decision.Proposed.Kind, r.Decision.Proposed.Host, r.Decision.Reason)
					return nil
				}
			}
			return errors.New("no sidecar reports sick_primary/refused_policy_disabled yet")
		})
		detected := time.Since(t0)
		d.c.Timeline.Mark("phase 2: +%s %s", secs(detected), seen)
		var audited bool
		for _, r := range cars.AllAudit(t) {
			if !r.Time.Before(t0) && r.Analysis.Kind == election.SickPrimary && r.Reason == election.RefusedPolicyDisabled {
				audited = true
			}
		}
		if !audited {
			t.Errorf("no audit line with analysis sick_primary and reason refused_policy_disabled")
		}
		if ex := cars.Executed(t, t0); len(ex) > 0 {
			t.Errorf("actions executed with failover disabled: %s", describeActions(ex, t0))
		}
		term1, err := d.term(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if term1 != term0 || !stillPrimary(ctx, p) {
			t.Errorf("term %d -> %d with failover disabled; %s still primary: %v", term0, term1, p, stillPrimary(ctx, p))
		}
		rep.note("failover.enabled: false: diagnosed after %s (%s), audited: %v, no action executed, term unchanged (%d)",
			secs(detected), seen, audited, term1)
		cars.LogAudit(t, t0)
		unstall(p)
		d.c.Timeline.Mark("phase 2: stall off")
		d.WaitHealthy(t, drillRejoinTimeout)
		// Let the sick verdict clear before phase 3 enables failover: evidence gathered during
		// the stall (failed and outstanding write probes) still stands for a moment after it, and
		// an enabled policy would act on it.
		cars.WaitSettled(t, drillSettleTimeout)
		if ex := cars.Executed(t, t0); len(ex) > 0 {
			t.Errorf("actions executed with failover disabled: %s", describeActions(ex, t0))
		}
	})
	if t.Failed() {
		return
	}

	// Phase 3: failover enabled (reloaded with SIGHUP): step up (and fence) within the target.
	t.Run("failover-enabled", func(t *testing.T) {
		cars.Rewrite(t, sidecarOpts{})
		d.WaitHealthy(t, drillRejoinTimeout)
		cars.WaitSettled(t, drillSettleTimeout)
		p := d.WaitHealthy(t, drillRejoinTimeout)
		w := startWorkload(t, d, "sick_on")
		waitAcks(t, w, 5)
		d.c.Timeline.Mark("phase 3 (failover enabled): disk stall on primary %s", p)
		t0 := time.Now()
		stall(p)
		np, at, err := d.newPrimary(ctx, p, drillFailoverTimeout)
		if err != nil {
			cars.DumpStatus(t)
			t.Fatalf("%v", err)
		}
		d.c.Timeline.Mark("phase 3: +%s new primary %s", secs(at.Sub(t0)), np)
		var syncs []string
		for _, h := range d.data {
			if h != p && h != np {
				syncs = append(syncs, syncSourceOf(ctx, d, h))
				d.c.Timeline.Mark("phase 3: %s", syncs[len(syncs)-1])
			}
		}
		direct, err := directMajorityWrite(ctx, t, np, "sick_on_direct")
		if err != nil {
			cars.DumpStatus(t)
			t.Fatalf("direct w:majority write on the new primary %s: %v", np, err)
		}
		d.c.Timeline.Mark("phase 3: +%s direct w:majority write on %s acknowledged", secs(direct.Sub(t0)), np)
		rep.s("rsguard: direct write").add(direct.Sub(t0))
		op, err := w.waitAckAfter(ctx, t0, drillFailoverTimeout)
		if err != nil {
			cars.DumpStatus(t)
			t.Fatalf("no acknowledged write on the new primary %s: %v", np, err)
		}
		d.c.Timeline.Mark("phase 3: +%s first acknowledged write (_id %d)", secs(op.End.Sub(t0)), op.ID)
		rep.s("rsguard: primary").add(at.Sub(t0))
		rep.s("rsguard: first write").add(op.End.Sub(t0))
		rep.note("stall -> first acknowledged w:majority write: rsguard %s; MongoDB alone none within %s (phase 1), ratio rsguard/native below %.2f",
			secs(op.End.Sub(t0)), sickStuckWindow(), op.End.Sub(t0).Seconds()/sickStuckWindow().Seconds())
		if lag := direct.Sub(at); lag > 2*time.Second {
			rep.note("NOTE: w:majority writes on the new primary were acknowledged only %s after it became writable; as it became writable, the other secondary reported: %s",
				secs(lag), strings.Join(syncs, "; "))
		}

		// The stalled primary must stop claiming PRIMARY: it steps down when it learns the newer
		// term, or its own sidecar fences it after failover.fence_after (default 20 s).
		var gone time.Duration
		harness.WaitFor(t, 60*time.Second, "the stalled former primary to step down or be fenced", func(ctx context.Context) error {
			if p.Running() && stillPrimary(ctx, p) {
				return fmt.Errorf("%s still claims PRIMARY", p)
			}
			gone = time.Since(t0)
			return nil
		})
		ex := cars.Executed(t, t0)
		fenced := false
		for _, r := range ex {
			fenced = fenced || r.Decision.Action == election.Fence
		}
		how := "stepped down (hello says not primary)"
		switch {
		case !p.Running() && fenced:
			how = "fenced by its sidecar (mongod exited: " + p.Proc().ExitState() + ")"
		case !p.Running():
			how = "exited by itself, no fence executed (" + p.Proc().ExitState() + ")"
		}
		d.c.Timeline.Mark("phase 3: +%s former primary %s %s", secs(gone), p, how)
		rep.note("failover enabled: new primary %s after %s, direct w:majority write after %s, workload's first write after %s; former primary %s %s after %s; actions: %s",
			np, secs(at.Sub(t0)), secs(direct.Sub(t0)), secs(op.End.Sub(t0)), p, how, secs(gone), describeActions(ex, t0))
		kinds := actionKinds(ex)
		if len(kinds) == 0 {
			t.Errorf("no rsguard action executed; the new primary came from elsewhere")
		}
		cars.LogAudit(t, t0)

		// Stall off, the former primary back as a secondary, every acknowledged write present.
		unstall(p)
		if !p.Running() {
			if err := p.Start(ctx); err != nil {
				t.Fatal(err)
			}
		}
		d.c.WaitState(t, p, "SECONDARY", drillRejoinTimeout)
		cur := d.WaitHealthy(t, drillRejoinTimeout)
		n := w.verify(t, cur)
		t.Logf("%d acknowledged writes, all present on %s", n, cur)
	})
	rep.note("target: writable new primary within 10s of the stall with rsguard")
	rep.publish(t)
}

// syncSourceOf describes h's state and sync source (replSetGetStatus), for the timeline.
func syncSourceOf(ctx context.Context, d *drillSet, h *harness.Host) string {
	st, err := d.c.Status(ctx, h)
	if err != nil {
		return fmt.Sprintf("%s: replSetGetStatus: %v", h, err)
	}
	return fmt.Sprintf("%s: %v in term %v, syncSourceHost %q", h, st["myState"], st["term"], st["syncSourceHost"])
}

// waitAcks waits until the workload has n acknowledged writes.
func waitAcks(t testing.TB, w *workload, n int) {
	t.Helper()
	harness.WaitFor(t, 30*time.Second, "the workload's first acknowledged writes", func(context.Context) error {
		if got := len(w.acked()); got < n {
			return fmt.Errorf("%d writes acknowledged", got)
		}
		return nil
	})
}

// short renders an error on one short line.
func short(err error) string {
	if err == nil {
		return "none"
	}
	s := err.Error()
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}
