package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/supervisor"
)

// TestDrillResyncRefusedWithoutPrimary (make drill only; its short form is the supervisor test
// TestResyncRefusedWithoutAHealthyPrimary): a too-stale member whose resync waits outside its
// maintenance window (recovery.resync_windows) is left with no primary when the two other
// mongods freeze. Its sidecar must not resync it now: nobody else is known to hold the set's data
// (it may hold the only copy of some writes). The refusal changes to refused_resync_no_primary in
// the audit log, the dbpath is untouched, and nothing is stopped.
func TestDrillResyncRefusedWithoutPrimary(t *testing.T) {
	if !fullDrill() {
		t.Skip("make drill only (RSGUARD_DRILL_RUNS): the short form is supervisor's TestResyncRefusedWithoutAHealthyPrimary")
	}
	mongodBin, supBin := harness.BuildOnce(t)
	d := newDrillSetWith(t, 3, 0, 1, func(o *harness.Options) {
		o.OplogSizeMB = 1
		o.ExtraParams = map[string]string{"shutdownTimeoutMillisForSignaledShutdown": "1000"}
	})
	defer d.c.Timeline.Log(t)
	// A window that is never now: twelve hours away.
	away := time.Now().UTC().Add(12 * time.Hour)
	window := fmt.Sprintf("%02d:00-%02d:59", away.Hour(), away.Hour())
	cars, p := execSidecars(t, d, mongodBin, supBin, func(*harness.Host) string {
		return fmt.Sprintf("recovery:\n  resync_windows: [%q]\n", window)
	})
	v := d.c.Others(p)[0]
	car := cars.ByHost(v)
	vpid, err := v.MongodPIDs()
	if err != nil || len(vpid) != 1 {
		t.Fatalf("mongod pids of %s: %v (%v)", v, vpid, err)
	}
	if err := syscall.Kill(vpid[0], syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	writeBig(t, d, 400)
	if err := syscall.Kill(vpid[0], syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	refused := func(reason recovery.ResyncReason) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			for _, r := range cars.AllAudit(t) {
				if r.Sidecar == car.ID && r.Decision.Action == supervisor.ActionResync && r.Reason == election.Reason(reason) {
					return nil
				}
			}
			return fmt.Errorf("no %s audited by %s yet", reason, car.ID)
		}
	}
	harness.WaitFor(t, drillRejoinTimeout, "the resync refused outside its window", refused(recovery.RefusedResyncWindow))
	d.c.Timeline.Mark("%s too stale, its resync refused outside the window", v)
	t0 := time.Now()
	for _, h := range d.c.Others(v) {
		if h.Arbiter {
			continue
		}
		pids, err := h.MongodPIDs()
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
		}
	}
	d.c.Timeline.Mark("the other two mongods frozen: no primary")
	harness.WaitFor(t, drillRejoinTimeout, "the resync refused without a primary", refused(recovery.RefusedResyncNoPrimary))
	refusedAfter := time.Since(t0)
	if starts := resyncStarts(t, cars, car); starts != 0 {
		t.Errorf("%d resyncs started on %s", starts, car.ID)
	}
	if now, err := v.MongodPIDs(); err != nil || len(now) != 1 || now[0] != vpid[0] {
		t.Errorf("%s's mongod was stopped or restarted: pids %v (%v), was %d", v, now, err, vpid[0])
	}
	if aside, _ := os.ReadDir(v.Dir); strings.Contains(fmt.Sprint(aside), ".resync-") {
		t.Errorf("%s's dbpath was moved aside: %v", v, aside)
	}
	rep := newDrillReport("Drill 11b: a too-stale member's resync refused while no primary holds the data")
	rep.line("- refused_resync_outside_window while the primary was healthy, then refused_resync_no_primary %.1fs after the other two mongods froze; no stop, no move, the dbpath untouched", refusedAfter.Seconds())
	rep.publish(t)
}

// resyncStarts counts the resyncs car's audit log says started.
func resyncStarts(t testing.TB, cars *sidecarSet, car *sidecar) int {
	n := 0
	for _, r := range cars.AllAudit(t) {
		if r.Sidecar == car.ID && r.Decision.Action == supervisor.ActionResync && strings.HasPrefix(r.Result, supervisor.ResultExecuted+": started") {
			n++
		}
	}
	return n
}
