package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/e2e/harness"
)

// TestDrillPSA: two data members and an arbiter mongod (PSA), a data sidecar beside each data
// mongod and the arbiter sidecar on the arbiter's host: three sidecars, quorum 2.
//
//  1. Loss of the primary's zone (its mongod and its sidecar SIGKILLed): the other data member
//     must become a writable primary (time reported; w:1 writes go through, w:"majority" ones
//     wait for the zone to come back, since the arbiter holds no data). The arbiter mongod refuses its vote while
//     it still sees the old primary healthy (failover-notes "Arbiters are different"), so this is
//     bounded by the arbiter's view, not by rsguard alone.
//  2. Loss of the arbiter host (arbiter mongod and arbiter sidecar SIGKILLed): nothing to do; the
//     primary and its term must stay, and no sidecar may act.
func TestDrillPSA(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	d := newDrillSet(t, 2, 1, 0)
	defer d.c.Timeline.Log(t)
	arb := d.members[2]
	cars := newSidecars(t, supBin, "rs0", d.data, []*harness.Host{arb}, sidecarOpts{})
	cars.Start(t)
	ctx := context.Background()
	rep := newDrillReport("Drill 5: PSA (two data members + arbiter mongod; arbiter sidecar on the arbiter's host)")

	t.Run("primary-zone-lost", func(t *testing.T) {
		d.WaitHealthy(t, drillRejoinTimeout)
		cars.WaitSettled(t, drillSettleTimeout)
		p := d.WaitHealthy(t, drillRejoinTimeout)
		car := cars.ByHost(p)
		w := startWorkload(t, d, "psa_zone")
		waitAcks(t, w, 5)
		d.c.Timeline.Mark("lose the primary's zone: SIGKILL mongod %s and sidecar %s", p, car.ID)
		t0 := time.Now()
		if err := p.Kill(); err != nil {
			t.Fatal(err)
		}
		if err := car.Proc.Kill(); err != nil {
			t.Fatal(err)
		}
		np, at, err := d.newPrimary(ctx, p, drillFailoverTimeout)
		if err != nil {
			cars.DumpStatus(t)
			t.Fatal(err)
		}
		d.c.Timeline.Mark("+%s new primary %s", secs(at.Sub(t0)), np)
		// In PSA with one data member gone, w:"majority" needs both data members (the arbiter
		// holds no data): majority writes wait for the zone to return; w:1 writes go through.
		w1, err := directWrite(ctx, t, np, "psa_zone_w1", writeconcern.W1())
		if err != nil {
			t.Fatalf("w:1 write on the new primary %s: %v", np, err)
		}
		d.c.Timeline.Mark("+%s w:1 write acknowledged by %s", secs(w1.Sub(t0)), np)
		rep.s("zone lost: primary").add(at.Sub(t0))
		rep.s("zone lost: w:1 write").add(w1.Sub(t0))
		how := describeActions(cars.Executed(t, t0), t0)
		if how == "" {
			how = "no action executed (MongoDB's own election won)"
		}
		rep.note("primary zone lost: new primary %s after %s, first w:1 write after %s; %s", np, secs(at.Sub(t0)), secs(w1.Sub(t0)), how)
		if _, ok := w.firstAckAfter(t0); ok {
			t.Logf("a w:majority write was acknowledged while only one data member was up")
		}
		cars.LogAudit(t, t0)

		// The zone comes back: mongod and sidecar.
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		cars.StartOne(t, car)
		back := time.Now()
		d.c.WaitState(t, p, "SECONDARY", drillRejoinTimeout)
		op, err := w.waitAckAfter(ctx, back, drillFailoverTimeout)
		if err != nil {
			t.Fatalf("w:majority writes do not resume once the zone is back: %v", err)
		}
		rep.note("w:majority writes stalled while one data member was down (PSA: the arbiter holds no data) and resumed %s after the zone came back", secs(op.end.Sub(back)))
		cur := d.WaitHealthy(t, drillRejoinTimeout)
		n := w.verify(t, cur)
		t.Logf("%d acknowledged writes, all present on %s", n, cur)
	})
	if t.Failed() {
		return
	}

	t.Run("arbiter-host-lost", func(t *testing.T) {
		cars.Acknowledge(t) // the zone failover above opened the anti-flap window
		d.WaitHealthy(t, drillRejoinTimeout)
		cars.WaitSettled(t, drillSettleTimeout)
		p := d.WaitHealthy(t, drillRejoinTimeout)
		hl, err := p.Hello(ctx)
		if err != nil {
			t.Fatal(err)
		}
		eid0 := electionIDOf(hl)
		acar := cars.ByHost(arb)
		w := startWorkload(t, d, "psa_arbiter")
		waitAcks(t, w, 5)
		d.c.Timeline.Mark("lose the arbiter host: SIGKILL arbiter mongod %s and sidecar %s", arb, acar.ID)
		t0 := time.Now()
		if err := arb.Kill(); err != nil {
			t.Fatal(err)
		}
		if err := acar.Proc.Kill(); err != nil {
			t.Fatal(err)
		}
		hold := 12 * time.Second // past rsguard's detection (~2 s) and electionTimeoutMillis (10 s)
		holdWhile(t, hold, "primary unchanged after losing the arbiter host", func(ctx context.Context) error {
			hctx, cancel := context.WithTimeout(ctx, time.Second)
			hl, err := p.Hello(hctx)
			cancel()
			switch {
			case err != nil:
				return fmt.Errorf("primary %s: %w", p, err)
			case hl["isWritablePrimary"] != true || electionIDOf(hl) != eid0:
				return fmt.Errorf("%s: isWritablePrimary %v, electionId %v (was %s)", p, hl["isWritablePrimary"], hl["electionId"], eid0.Hex())
			}
			if ex := cars.Executed(t, t0); len(ex) > 0 {
				return fmt.Errorf("rsguard acted: %s", describeActions(ex, t0))
			}
			return nil
		})
		if _, err := w.waitAckAfter(ctx, t0.Add(time.Second), 10*time.Second); err != nil {
			t.Errorf("no w:majority write acknowledged without the arbiter (both data members are up): %v", err)
		}
		rep.note("arbiter host lost: %s stayed PRIMARY (same electionId) for %s, no action executed", p, hold)
		cars.LogAudit(t, t0)
		n := w.verify(t, p)
		t.Logf("%d acknowledged writes, all present on %s", n, p)
	})
	rep.publish(t)
}
