package e2e

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsguard/rsguard/e2e/harness"
)

// TestDrillPrimaryHostFrozen: the primary's host hangs: SIGSTOP of its mongod AND of its sidecar
// (nothing answers, nothing is refused: no first-hand proof of death). The other sidecars must
// corroborate "unresponsive" and step up a secondary; the time from the freeze to a writable new
// primary and to the workload's first acknowledged write is reported (target: 6 s median). After
// the thaw the old primary must step down (it learns the newer term) and rejoin as SECONDARY, and
// every acknowledged w:majority write must be on the primary.
//
// Pass/fail: a new writable primary appears, the old one steps down and rejoins, nothing
// acknowledged is lost. The timing is reported, not asserted (DESIGN.md "Test tiers").
func TestDrillPrimaryHostFrozen(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	runs := drillRuns(t)
	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{})
	cars.Start(t)
	rep := newDrillReport(fmt.Sprintf("Drill 2: primary host frozen, SIGSTOP of mongod and sidecar (%d run(s), default election settings)", runs),
		"primary", "direct write", "first write", "old primary SECONDARY after thaw")
	ctx := context.Background()

	for run := range runs {
		if run > 0 {
			cars.Acknowledge(t)
		}
		d.WaitHealthy(t, drillRejoinTimeout)
		cars.WaitSettled(t, drillSettleTimeout)
		p := d.WaitHealthy(t, drillRejoinTimeout)
		car := cars.ByHost(p)
		w := startWorkload(t, d, fmt.Sprintf("freeze_%d", run))
		harness.WaitFor(t, 30*time.Second, "the workload's first acknowledged writes", func(context.Context) error {
			if n := len(w.acked()); n < 5 {
				return fmt.Errorf("%d writes acknowledged", n)
			}
			return nil
		})

		d.c.Timeline.Mark("run %d: freeze host %s (mongod and sidecar %s)", run+1, p.Addr, car.ID)
		t0 := time.Now()
		if err := p.Freeze(); err != nil {
			t.Fatal(err)
		}
		if err := car.Proc.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		d.c.Timeline.Mark("SIGSTOP sidecar %s", car.ID)
		thawed := false
		thaw := func() {
			if thawed {
				return
			}
			thawed = true
			_ = car.Proc.Signal(syscall.SIGCONT)
			if err := p.Thaw(); err != nil {
				t.Errorf("thaw %s: %v", p, err)
			}
			d.c.Timeline.Mark("SIGCONT sidecar %s", car.ID)
		}
		defer thaw()

		np, at, err := d.newPrimary(ctx, p, drillFailoverTimeout)
		if err != nil {
			cars.DumpStatus(t)
			t.Fatalf("run %d: %v", run+1, err)
		}
		d.c.Timeline.Mark("run %d: +%s new primary %s", run+1, secs(at.Sub(t0)), np)
		var syncs []string
		for _, h := range d.data {
			if h != p && h != np {
				syncs = append(syncs, syncSourceOf(ctx, d, h))
				d.c.Timeline.Mark("run %d: %s", run+1, syncs[len(syncs)-1])
			}
		}
		direct, err := directMajorityWrite(ctx, t, np, fmt.Sprintf("freeze_%d_direct", run))
		if err != nil {
			t.Fatalf("run %d: direct w:majority write on the new primary %s: %v", run+1, np, err)
		}
		rep.s("direct write").add(direct.Sub(t0))
		if lag := direct.Sub(at); lag > 2*time.Second {
			rep.note("run %d: NOTE: w:majority writes on the new primary were acknowledged only %s after it became writable; as it became writable, the other secondary reported: %s",
				run+1, secs(lag), strings.Join(syncs, "; "))
		}
		op, err := w.waitAckAfter(ctx, t0, drillFailoverTimeout)
		if err != nil {
			t.Fatalf("run %d: no acknowledged write on the new primary %s: %v", run+1, np, err)
		}
		d.c.Timeline.Mark("run %d: +%s first acknowledged write (_id %d)", run+1, secs(op.end.Sub(t0)), op.id)
		rep.s("primary").add(at.Sub(t0))
		rep.s("first write").add(op.end.Sub(t0))
		how := describeActions(cars.Executed(t, t0), t0)
		if how == "" {
			how = "no action executed (MongoDB's own election won)"
		}
		rep.note("run %d: %s", run+1, how)
		t.Logf("run %d: froze %s; new primary %s after %s, first write after %s; %s", run+1, p, np,
			secs(at.Sub(t0)), secs(op.end.Sub(t0)), how)

		// Thaw: the old primary hears of the newer term and steps down by itself.
		thawAt := time.Now()
		thaw()
		d.c.WaitState(t, p, "SECONDARY", drillRejoinTimeout)
		rep.s("old primary SECONDARY after thaw").add(time.Since(thawAt))
		cur := d.WaitHealthy(t, drillRejoinTimeout)
		n := w.verify(t, cur)
		cars.LogAudit(t, t0)
		t.Logf("run %d: %d acknowledged writes, all present on %s", run+1, n, cur)
	}
	rep.note("target: writable new primary within 6s median; 'direct write' = a w:majority insert sent straight to the new primary; 'first write' = the replica-set client's workload, whose insert in flight to the frozen primary only gives up after its %s timeout; the last column is measured from the thaw", drillWriteTimeout)
	rep.publish(t)
}
