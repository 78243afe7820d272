package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rsguard/rsguard/drill"
	"github.com/rsguard/rsguard/drill/check"
	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/mongo"
)

// TestDrillLinearizablePrimaryKill: four clients read (linearizable and majority), write and
// CAS three keys with w:"majority" while an inserter inserts, through a SIGKILL of the primary's
// mongod with rsguard sidecars failing over. The history must be linearizable (drill/check with
// porcupine) and no acknowledged insert may be missing.
func TestDrillLinearizablePrimaryKill(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{})
	cars.Start(t)
	cars.WaitSettled(t, drillSettleTimeout)
	p := d.WaitHealthy(t, drillRejoinTimeout)

	store, closeStore, err := drill.DialStoreWith(context.Background(), drill.StoreOptions{Seeds: drill.Seeds{URI: d.c.URI()}, Collection: "linearizable"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = closeStore(context.Background()) }()
	// drill's workload: four register clients reading (linearizable and majority), writing and
	// CASing three keys, and a w:"majority" inserter, every operation given 2 s.
	w := drill.StartWorkload(context.Background(), store, drill.WorkloadOptions{Majority: 1, Registers: 4,
		Every: 5 * time.Millisecond, Timeout: 2 * time.Second,
		RegisterKeys: []string{"x", "y", "z"}, RegisterReads: []mongo.ReadLevel{mongo.ReadLinearizable, mongo.ReadMajority}})
	defer w.Stop()
	begun := time.Now()
	harness.WaitFor(t, 30*time.Second, "the workload's first operations", func(context.Context) error {
		if n := registerOKSince(w, begun); n < 20 {
			return fmt.Errorf("%d operations answered", n)
		}
		return nil
	})

	ctx := context.Background()
	d.c.Timeline.Mark("SIGKILL primary %s under the register workload", p)
	t0 := time.Now()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	np, at, err := d.newPrimary(ctx, p, drillFailoverTimeout)
	if err != nil {
		cars.DumpStatus(t)
		t.Fatalf("no new primary: %v", err)
	}
	d.c.Timeline.Mark("+%s new primary %s", secs(at.Sub(t0)), np)
	// Keep going for a while on the new primary: the window right after the election (its commit
	// point still the old primary's) is where stale majority reads would show.
	harness.WaitFor(t, drillFailoverTimeout, "operations answered by the new primary", func(context.Context) error {
		if n := registerOKSince(w, t0); n < 200 || time.Since(at) < 3*time.Second {
			return fmt.Errorf("%d operations answered since the kill", n)
		}
		return nil
	})
	w.Stop()
	d.c.Timeline.Mark("+%s workload stopped", secs(time.Since(t0)))

	res, err := check.CheckLinearizable(w.History, time.Minute, artifactPath(t, "linearizable-primary-kill.html"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("history: %d operations (%d ok, %d failed, %d unknown), %d checked on %d keys in %s: %s",
		res.Counts.Ops, res.Counts.OK, res.Counts.Failed, res.Counts.Unknown, res.Checked, res.Keys, res.Elapsed, res.Verdict)
	if err := res.Err(); err != nil {
		t.Errorf("LINEARIZABILITY VIOLATION through a primary kill: %v", err)
	}
	var present map[int64]bool
	harness.WaitFor(t, 30*time.Second, "reading the inserted ids back (majority)", func(ctx context.Context) error {
		present, err = store.IDs(ctx)
		return err
	})
	acc, _ := w.Account(present)
	t.Logf("inserts: %d attempted, %d acknowledged, %d present (%d unacknowledged but committed)", acc.Attempted, acc.Acked, acc.Present, acc.UnackedPresent)
	if acc.Acked == 0 {
		t.Error("no insert was acknowledged: the accounting proves nothing")
	}
	if err := acc.Err(); err != nil {
		t.Errorf("INSERT ACCOUNTING VIOLATION: %v", err)
	}
	rep := newDrillReport("Linearizability drill: register/CAS workload through a SIGKILL of the primary (rsguard sidecars)", "new primary")
	rep.s("new primary").add(at.Sub(t0))
	rep.note("history: %d operations by 4 clients on %d keys (%d ok, %d failed, %d unknown outcome); porcupine: %s in %s",
		res.Counts.Ops, res.Keys, res.Counts.OK, res.Counts.Failed, res.Counts.Unknown, res.Verdict, res.Elapsed.Round(time.Millisecond))
	rep.note("reads: readConcern linearizable, and majority with afterClusterTime of every completed operation; writes and CAS: w:\"majority\"")
	rep.note("inserts (w:\"majority\"): %d attempted, %d acknowledged, %d present after the failover, %d lost", acc.Attempted, acc.Acked, acc.Present, len(acc.Lost))
	rep.publish(t)

	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	d.c.WaitState(t, p, "SECONDARY", drillRejoinTimeout)
}

// registerOKSince counts the register operations begun after t0 and answered.
func registerOKSince(w *drill.Workload, t0 time.Time) int {
	n := 0
	for _, o := range w.Rec.Ops() {
		if o.Kind == drill.OpRegister && o.OK() && o.Start.After(t0) {
			n++
		}
	}
	return n
}
