package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/supervisor"
)

// coordinatorCrashGap is how long after the coordinating sidecar's crash the new primary is
// killed: the reproduction used 14-15 s, well inside the 5-minute anti-flap window.
const coordinatorCrashGap = 15 * time.Second

// TestDrillCoordinatorCrashKeepsAntiFlap is issue 8's done-when "Coordinator sidecar killed,
// primary killed 15 s later: no second automatic failover on any sidecar", with process kills
// only (no iptables). Three data members, one sidecar each, every setting at its default:
//  1. SIGKILL the primary's mongod: rsguard fails over (the coordinating sidecar steps up the
//     best secondary) and the killed member comes back as a secondary;
//  2. SIGKILL the coordinating sidecar;
//  3. 15 s later, SIGKILL the new primary's mongod.
//
// The remaining sidecars must not run a second automatic failover inside the anti-flap window:
// the new coordinator knows the first one from the shared memory it merged from gossip, and
// audits refused_anti_flap. MongoDB's own election still replaces the dead primary (~12 s): that
// is MongoDB's, not rsguard's action. Finally every acknowledged w:"majority" write is read back.
func TestDrillCoordinatorCrashKeepsAntiFlap(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	ctx := context.Background()
	d := newDrillSet(t, 3, 0, 0)
	defer d.c.Timeline.Log(t)
	cars := newSidecars(t, supBin, "rs0", d.data, nil, sidecarOpts{})
	cars.Start(t)
	p, w := d.startRun(t, cars, "memory")

	// 1. The first failover, made by rsguard.
	d.c.Timeline.Mark("SIGKILL primary %s", p)
	t0 := time.Now()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	np, _, err := d.newPrimary(ctx, p, drillFailoverTimeout)
	if err != nil {
		cars.DumpStatus(t)
		t.Fatal(err)
	}
	d.c.Timeline.Mark("new primary %s", np)
	var first supervisor.AuditRecord
	harness.WaitFor(t, drillFailoverTimeout, "rsguard's step-up in the audit logs", func(context.Context) error {
		for _, r := range cars.Executed(t, t0) {
			if r.Decision.Action == election.StepUp && r.Result == supervisor.ResultExecuted {
				first = r
				return nil
			}
		}
		return errors.New("no executed step_up audited yet (MongoDB's own election may have won)")
	})
	t.Logf("first failover: %s", describeActions([]supervisor.AuditRecord{first}, t0))
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	d.c.WaitState(t, p, "SECONDARY", drillRejoinTimeout)
	if cur := d.WaitHealthy(t, drillRejoinTimeout); cur != np {
		t.Fatalf("primary changed to %s after the rejoin of %s (want %s still)", cur, p, np)
	}

	// 2. Kill the sidecar that coordinated the failover.
	coord := cars.byID(first.Sidecar)
	if coord == nil {
		t.Fatalf("the step-up was audited by unknown sidecar %q", first.Sidecar)
	}
	d.c.Timeline.Mark("SIGKILL sidecar %s (the coordinator)", coord.ID)
	t1 := time.Now()
	if err := coord.Proc.Kill(); err != nil {
		t.Fatal(err)
	}
	var next *sidecar
	harness.WaitFor(t, 30*time.Second, "another sidecar coordinating", func(ctx context.Context) error {
		for _, c := range cars.cars {
			if c == coord || !c.Running() {
				continue
			}
			r, err := cars.Status(ctx, c)
			if err != nil {
				return err
			}
			if r.Coordinator == c.ID {
				next = c
				return nil
			}
		}
		return errors.New("no surviving sidecar says it coordinates")
	})
	d.c.Timeline.Mark("%s coordinates (+%s after the sidecar kill)", next.ID, secs(time.Since(t1)))
	if r, err := cars.Status(ctx, next); err != nil || r.Policy.LastFailover.To != np.HostPort() {
		t.Errorf("the new coordinator %s does not know the first failover to %s: %+v (%v)", next.ID, np, r.Policy.LastFailover, err)
	}
	holdWhile(t, time.Until(t1.Add(coordinatorCrashGap)), "waiting out the gap after the sidecar kill", func(ctx context.Context) error {
		if !stillPrimary(ctx, np) {
			return fmt.Errorf("%s stopped being primary before it was killed", np)
		}
		return nil
	})

	// 3. Kill the new primary: no second automatic failover, on any sidecar.
	d.c.Timeline.Mark("SIGKILL new primary %s (+%s after the sidecar kill)", np, secs(time.Since(t1)))
	t2 := time.Now()
	if err := np.Kill(); err != nil {
		t.Fatal(err)
	}
	noSecondFailover := func(context.Context) error {
		for _, r := range cars.Executed(t, t2) {
			if r.Decision.Action == election.StepUp || r.Decision.Action == election.StepDown {
				return fmt.Errorf("second automatic failover inside the anti-flap window: %s", describeActions([]supervisor.AuditRecord{r}, t2))
			}
		}
		return nil
	}
	harness.WaitFor(t, drillFailoverTimeout, "refused_anti_flap audited by a surviving sidecar", func(ctx context.Context) error {
		if err := noSecondFailover(ctx); err != nil {
			return harness.Abort(err)
		}
		for _, c := range cars.cars {
			recs, err := c.ReadAudit()
			if err != nil {
				return err
			}
			if slices.ContainsFunc(recs, func(r supervisor.AuditRecord) bool {
				return !r.Time.Before(t2) && r.Reason == election.RefusedAntiFlap
			}) {
				d.c.Timeline.Mark("refused_anti_flap audited by %s", c.ID)
				return nil
			}
		}
		return errors.New("no refused_anti_flap audited yet")
	})
	// MongoDB's own election (10 s timeout plus the election) may now replace np; rsguard must
	// stay out of it for as long as that takes and a little more.
	np2, _, err := d.newPrimary(ctx, np, drillFailoverTimeout)
	if err != nil {
		cars.DumpStatus(t)
		t.Fatalf("MongoDB's own election did not replace %s: %v", np, err)
	}
	d.c.Timeline.Mark("MongoDB elected %s on its own (+%s after the kill)", np2, secs(time.Since(t2)))
	holdWhile(t, 5*time.Second, "no rsguard action after MongoDB's election", noSecondFailover)
	cars.LogAudit(t, t0)

	if err := np.Start(ctx); err != nil {
		t.Fatal(err)
	}
	d.c.WaitState(t, np, "SECONDARY", drillRejoinTimeout)
	n := w.verify(t, d.WaitHealthy(t, drillRejoinTimeout))
	t.Logf("%d acknowledged w:majority writes, all present", n)
}

// byID is the sidecar with id, nil if none.
func (s *sidecarSet) byID(id string) *sidecar {
	for _, c := range s.cars {
		if c.ID == id {
			return c
		}
	}
	return nil
}
