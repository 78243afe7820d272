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
// (nothing answers, nothing is refused: no first-hand proof of death). First with the supervisor
// off (MongoDB alone: the secondaries' election timers fire about electionTimeoutMillis after the
// last heartbeat), then with the sidecars, which must corroborate "unreachable", step up a
// secondary and, since mongod keeps a new primary in catch-up until its heartbeats to the frozen
// member time out (topology_coordinator.cpp latestKnownOpTimeSinceHeartbeatRestart), end that
// wait with replSetAbortPrimaryCatchUp once no reachable member is ahead (election/catchup.go).
// The time from the freeze to a writable new primary and to the workload's first acknowledged
// write is reported for both. After the thaw the old primary must step down (it learns the newer
// term) and rejoin as SECONDARY, and every acknowledged w:majority write must be on the primary.
//
// Pass/fail: a new writable primary appears, the old one steps down and rejoins, nothing
// acknowledged is lost, and rsguard beats MongoDB alone in the same run (medians of the first
// write). The timing itself is reported, not asserted (DESIGN.md "Test tiers").
func TestDrillPrimaryHostFrozen(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	runs := drillRuns(t)
	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	rep := newDrillReport(fmt.Sprintf("Drill 2: primary host frozen, SIGSTOP of mongod and sidecar (%d run(s) each, default election settings)", runs),
		"native: primary", "native: first write", "rsguard: primary", "rsguard: direct write", "rsguard: first write",
		"old primary SECONDARY after thaw")

	nat, rsg, ratio := d.compareArms(t, supBin, runs, rep, func(t *testing.T, cars *sidecarSet, mode string, run int) killResult {
		return d.freezeRun(t, cars, mode, run, rep)
	})
	rep.note("freeze -> first acknowledged w:majority write: median native %s, median rsguard %s, ratio rsguard/native %.2f",
		secs(nat), secs(rsg), ratio)
	rep.note("'direct write' = a w:majority insert sent straight to the new primary; 'first write' = the replica-set client's workload, whose insert in flight to the frozen primary only gives up after its %s timeout; the last column is measured from the thaw", drillWriteTimeout)
	rep.publish(t)
}

// freezeRun freezes the primary's host (its mongod, and its sidecar when cars is set), measures
// the failover, thaws it, waits for the rejoin and verifies the acknowledged writes.
func (d *drillSet) freezeRun(t *testing.T, cars *sidecarSet, mode string, run int, rep *drillReport) killResult {
	t.Helper()
	ctx := context.Background()
	p, w := d.startRun(t, cars, fmt.Sprintf("freeze_%s_%d", mode, run))

	var car *sidecar
	if cars != nil {
		car = cars.ByHost(p)
	}
	d.c.Timeline.Mark("%s run %d: freeze host %s", mode, run+1, p.Addr)
	t0 := time.Now()
	if err := p.Freeze(); err != nil {
		t.Fatal(err)
	}
	if car != nil {
		if err := car.Proc.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		d.c.Timeline.Mark("SIGSTOP sidecar %s", car.ID)
	}
	thawed := false
	thaw := func() {
		if thawed {
			return
		}
		thawed = true
		if car != nil {
			_ = car.Proc.Signal(syscall.SIGCONT)
			d.c.Timeline.Mark("SIGCONT sidecar %s", car.ID)
		}
		if err := p.Thaw(); err != nil {
			t.Errorf("thaw %s: %v", p, err)
		}
	}
	defer thaw()

	np, at, err := d.newPrimary(ctx, p, drillFailoverTimeout)
	if err != nil {
		if cars != nil {
			cars.DumpStatus(t)
		}
		t.Fatalf("%s run %d: %v", mode, run+1, err)
	}
	d.c.Timeline.Mark("%s run %d: +%s new primary %s", mode, run+1, secs(at.Sub(t0)), np)
	var syncs []string
	for _, h := range d.data {
		if h != p && h != np {
			syncs = append(syncs, syncSourceOf(ctx, d, h))
		}
	}
	direct, err := directMajorityWrite(ctx, t, np, fmt.Sprintf("freeze_%s_%d_direct", mode, run))
	if err != nil {
		t.Fatalf("%s run %d: direct w:majority write on the new primary %s: %v", mode, run+1, np, err)
	}
	if lag := direct.Sub(at); lag > 2*time.Second {
		rep.note("%s run %d: NOTE: w:majority writes on the new primary were acknowledged only %s after it became writable; as it became writable, the other secondary reported: %s",
			mode, run+1, secs(lag), strings.Join(syncs, "; "))
	}
	op, err := w.waitAckAfter(ctx, t0, drillFailoverTimeout)
	if err != nil {
		t.Fatalf("%s run %d: no acknowledged write on the new primary %s: %v", mode, run+1, np, err)
	}
	res := killResult{primary: at.Sub(t0), direct: direct.Sub(t0), write: op.End.Sub(t0)}
	d.c.Timeline.Mark("%s run %d: +%s first acknowledged write (_id %d)", mode, run+1, secs(res.write), op.ID)
	if cars != nil {
		res.how = describeActions(cars.Executed(t, t0), t0)
		if res.how == "" {
			res.how = "no action executed (MongoDB's own election won)"
		}
	}
	t.Logf("%s run %d: froze %s; new primary %s after %s, first write after %s; %s", mode, run+1, p, np,
		secs(res.primary), secs(res.write), res.how)

	// Thaw: the old primary hears of the newer term and steps down by itself.
	thawAt := time.Now()
	thaw()
	d.c.WaitState(t, p, "SECONDARY", drillRejoinTimeout)
	if cars != nil {
		rep.s("old primary SECONDARY after thaw").add(time.Since(thawAt))
		cars.LogAudit(t, t0)
	}
	cur := d.WaitHealthy(t, drillRejoinTimeout)
	n := w.verify(t, cur)
	t.Logf("%s run %d: %d acknowledged writes, all present on %s", mode, run+1, n, cur)
	return res
}
