package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/election"
)

// TestDrillPrimaryKill is the first acceptance drill: SIGKILL of the primary's mongod in a
// set of three data members (127.0.0.N, each with a data sidecar) plus an arbiter sidecar on its
// own address, MongoDB's default election settings, and a w:"majority" workload. It measures the
// time from the kill to a new writable primary and to the first acknowledged write on it, first
// with the supervisor off (sidecars not started: MongoDB's own ~12 s), then with the sidecars
// (target: within 3 s, median over 10 runs), and reads every acknowledged write back.
//
// Pass/fail, deliberately not a timing threshold (DESIGN.md "Test tiers"): a new writable primary
// must appear and no acknowledged write may be lost in every run, and rsguard must beat MongoDB
// alone in the same run of the same machine: median(rsguard first write) < median(native first
// write). A loaded CI machine slows both alike, so the comparison holds where a fixed "< 3 s"
// would flake; the 3 s target is judged from the report of `make drill` (RSGUARD_DRILL_RUNS=10).
func TestDrillPrimaryKill(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	runs := drillRuns(t)
	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	rep := newDrillReport(fmt.Sprintf("Drill 1: SIGKILL of the primary's mongod (%d run(s) each, default election settings)", runs),
		"native: primary", "native: direct write", "native: first write",
		"rsguard: primary", "rsguard: direct write", "rsguard: first write")

	nat, rsg, ratio := d.compareArms(t, supBin, runs, rep, d.killRun)
	rep.note("kill -> first acknowledged w:majority write: median native %s, median rsguard %s, ratio rsguard/native %.3f (targets: at most 0.1, and rsguard within 3s median over 10 runs)",
		secs(nat), secs(rsg), ratio)
	rep.note("p90 native %s, p90 rsguard %s; 'primary' = first hello isWritablePrimary on another member (50 ms polling); 'direct write' = a w:majority insert sent straight to it acknowledged; 'first write' = the replica-set client's workload (what an application sees)",
		secs(rep.s("native: first write").quantile(0.9)), secs(rep.s("rsguard: first write").quantile(0.9)))
	rep.publish(t)
}

// killResult is one run of the kill drill.
type killResult struct {
	primary time.Duration // kill -> another member answers hello as writable primary
	direct  time.Duration // kill -> a direct w:majority insert on the new primary is acknowledged
	write   time.Duration // kill -> first acknowledged w:majority write of the workload
	how     string        // who acted (audit), for the report
}

// killRun waits for a healthy set (and settled sidecars), runs the workload, SIGKILLs the
// primary's mongod, measures, restarts it, waits until it rejoins and verifies the writes.
func (d *drillSet) killRun(t *testing.T, cars *sidecarSet, mode string, run int) killResult {
	t.Helper()
	ctx := context.Background()
	p, w := d.startRun(t, cars, fmt.Sprintf("kill_%s_%d", mode, run))

	d.c.Timeline.Mark("%s run %d: SIGKILL primary %s", mode, run+1, p)
	t0 := time.Now()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	np, at, err := d.newPrimary(ctx, p, drillFailoverTimeout)
	if err != nil {
		if cars != nil {
			cars.DumpStatus(t)
		}
		t.Fatalf("%s run %d: %v", mode, run+1, err)
	}
	d.c.Timeline.Mark("%s run %d: +%s new primary %s", mode, run+1, secs(at.Sub(t0)), np)
	direct, err := directMajorityWrite(ctx, t, np, fmt.Sprintf("kill_%s_%d_direct", mode, run))
	if err != nil {
		t.Fatalf("%s run %d: direct w:majority write on the new primary %s: %v", mode, run+1, np, err)
	}
	d.c.Timeline.Mark("%s run %d: +%s direct w:majority write on %s acknowledged", mode, run+1, secs(direct.Sub(t0)), np)
	op, err := w.waitAckAfter(ctx, t0, drillFailoverTimeout)
	if err != nil {
		t.Fatalf("%s run %d: no acknowledged write on the new primary %s: %v", mode, run+1, np, err)
	}
	res := killResult{primary: at.Sub(t0), direct: direct.Sub(t0), write: op.End.Sub(t0)}
	d.c.Timeline.Mark("%s run %d: +%s first acknowledged write (_id %d)", mode, run+1, secs(res.write), op.ID)
	t.Logf("%s run %d: killed %s; new primary %s after %s, first w:majority write after %s",
		mode, run+1, p, np, secs(res.primary), secs(res.write))

	if cars != nil {
		res.how = describeActions(cars.Executed(t, t0), t0)
		if res.how == "" {
			res.how = "no action executed (MongoDB's own election won)"
		}
		cars.LogAudit(t, t0)
	}

	// Bring the killed member back as a secondary; the new primary must hold every acknowledged
	// write (read back after the rejoin, from whoever is primary then).
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	d.c.WaitState(t, p, "SECONDARY", drillRejoinTimeout)
	cur := d.WaitHealthy(t, drillRejoinTimeout)
	n := w.verify(t, cur)
	t.Logf("%s run %d: %d acknowledged writes, all present on %s", mode, run+1, n, cur)
	return res
}

// startRun waits for a healthy set (and settled sidecars, when there are any), starts a
// w:"majority" workload into coll and waits for its first acknowledged writes; it returns the
// primary and the workload.
func (d *drillSet) startRun(t *testing.T, cars *sidecarSet, coll string) (*harness.Host, *workload) {
	t.Helper()
	d.WaitHealthy(t, drillRejoinTimeout)
	if cars != nil {
		cars.WaitSettled(t, drillSettleTimeout)
	}
	p := d.WaitHealthy(t, drillRejoinTimeout)
	w := startWorkload(t, d, coll)
	harness.WaitFor(t, 30*time.Second, "the workload's first acknowledged writes", func(context.Context) error {
		if n := len(w.acked()); n < 5 {
			return fmt.Errorf("%d writes acknowledged", n)
		}
		return nil
	})
	return p, w
}

// directMajorityWrite inserts one document with w:"majority" straight into h (retrying every
// 20 ms until acknowledged) and returns when that happened: how long majority commit takes on the
// new primary, apart from the driver's server discovery.
func directMajorityWrite(ctx context.Context, t testing.TB, h *harness.Host, coll string) (time.Time, error) {
	return directWrite(ctx, t, h, coll, writeconcern.Majority())
}

// directWrite is directMajorityWrite with another write concern.
func directWrite(ctx context.Context, t testing.TB, h *harness.Host, coll string, wc *writeconcern.WriteConcern) (time.Time, error) {
	cl := h.Client(t)
	c := cl.Database("drill").Collection(coll, options.Collection().SetWriteConcern(wc))
	var at time.Time
	err := harness.Poll(ctx, drillFailoverTimeout, func(ctx context.Context) error {
		ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := c.InsertOne(ictx, bson.D{{Key: "at", Value: time.Now()}}); err != nil {
			return err
		}
		at = time.Now()
		return nil
	})
	return at, err
}

// describeActions summarizes executed audit lines: "step_up 127.0.0.3:27017 by node-a at +1.20s
// (primary_process_dead, executed, 310ms)".
func describeActions(recs []auditLine, t0 time.Time) string {
	var parts []string
	for _, r := range recs {
		parts = append(parts, fmt.Sprintf("%s %s by %s at +%s (%s, %s, %dms)", r.Decision.Action, r.Decision.Target,
			r.Sidecar, secs(r.Time.Sub(t0)), r.Reason, r.Result, r.DurationMs))
	}
	return strings.Join(parts, "; ")
}

// actionKinds lists the executed actions' kinds.
func actionKinds(recs []auditLine) []election.ActionKind {
	var out []election.ActionKind
	for _, r := range recs {
		out = append(out, r.Decision.Action)
	}
	return out
}
