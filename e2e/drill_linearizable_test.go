package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rsguard/rsguard/drill/check"
	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/mongo"
)

// registerClassify is drill/check's Classifier for RegisterClient errors: failed only when
// mongo.NotApplied is sure, unknown otherwise.
func registerClassify(err error) check.Outcome {
	if mongo.NotApplied(err) {
		return check.OutcomeFailed
	}
	return check.OutcomeUnknown
}

// registerOpTimeout bounds one operation (a linearizable read's maxTimeMS included), so that
// a dead primary shows as operations of unknown outcome, not one call across the outage.
const registerOpTimeout = 2 * time.Second

// registerWorkload is several clients doing reads (linearizable and majority), w:"majority"
// writes and CASes on a few keys, plus an inserter, all recorded for drill/check.
type registerWorkload struct {
	rc      *mongo.RegisterClient
	h       *check.History
	ins     *check.Inserts
	keys    []string
	levels  []mongo.ReadLevel
	next    atomic.Int64 // unique values
	since   atomic.Int64 // unix nanos: count OK operations begun after this
	okSince atomic.Int64
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func dialRegisters(t testing.TB, hosts []*harness.Host, o mongo.RegisterOptions) *mongo.RegisterClient {
	t.Helper()
	o.Set = hosts[0].ReplSet
	for _, h := range hosts {
		o.Hosts = append(o.Hosts, h.HostPort())
	}
	rc, err := mongo.DialRegisters(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Close(context.Background()) })
	return rc
}

func startRegisterWorkload(t testing.TB, rc *mongo.RegisterClient, clients int, keys []string, levels []mongo.ReadLevel) *registerWorkload {
	w := &registerWorkload{rc: rc, h: check.NewHistory(check.HistoryOptions{}), ins: check.NewInserts(), keys: keys, levels: levels}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	for c := range clients {
		w.wg.Add(1)
		go func() { defer w.wg.Done(); w.client(t, ctx, c) }()
	}
	w.wg.Add(1)
	go func() { defer w.wg.Done(); w.inserter(t, ctx) }()
	t.Cleanup(w.Stop)
	return w
}

// Stop ends the workload and waits for every client's last operation (which is ended as the
// server or the timeout left it, never as cancelled by Stop: each operation has its own context).
func (w *registerWorkload) Stop() {
	w.cancel()
	w.wg.Wait()
}

func (w *registerWorkload) client(t testing.TB, ctx context.Context, c int) {
	seen := map[string]int64{} // last value this client read per key: its CAS's expected value
	for ctx.Err() == nil {
		key := w.keys[rand.N(len(w.keys))]
		var op check.Op
		switch r := rand.N(10); {
		case r < 5:
			op = check.Read(key)
		case r < 7:
			op = check.Write(key, w.next.Add(1))
		default:
			op = check.CAS(key, seen[key], w.next.Add(1))
		}
		id, err := w.h.Begin(c, op)
		if err != nil {
			t.Errorf("history: %v", err)
			return
		}
		begun := time.Now().UnixNano()
		octx, cancel := context.WithTimeout(context.Background(), registerOpTimeout)
		var out check.Output
		switch op.Kind {
		case check.OpRead:
			level := w.levels[rand.N(len(w.levels))]
			out.Value, err = w.rc.Read(octx, key, level)
			if err == nil {
				seen[key] = out.Value
			}
		case check.OpWrite:
			err = w.rc.Write(octx, key, op.Value)
		case check.OpCAS:
			out.OK, err = w.rc.CAS(octx, key, op.Old, op.New)
			if err == nil && out.OK {
				seen[key] = op.New
			}
		}
		cancel()
		if e := w.h.End(id, out, err, registerClassify); e != nil {
			t.Errorf("history: %v", e)
			return
		}
		if err == nil && begun > w.since.Load() {
			w.okSince.Add(1)
		}
		if err != nil {
			pause(ctx, 50*time.Millisecond) // a failing set is not hammered
		}
	}
}

func (w *registerWorkload) inserter(t testing.TB, ctx context.Context) {
	for i := 1; ctx.Err() == nil; i++ {
		id := fmt.Sprintf("i%06d", i)
		if err := w.ins.Attempt(id); err != nil {
			t.Errorf("inserts: %v", err)
			return
		}
		octx, cancel := context.WithTimeout(context.Background(), registerOpTimeout)
		err := w.rc.Insert(octx, id)
		cancel()
		if err == nil {
			if e := w.ins.Ack(id); e != nil {
				t.Errorf("inserts: %v", e)
				return
			}
		}
		pause(ctx, 20*time.Millisecond)
	}
}

func pause(ctx context.Context, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-tm.C:
	}
}

// readBackInserts reads the inserted ids with readConcern majority, retrying while the set
// settles.
func readBackInserts(t testing.TB, rc *mongo.RegisterClient) map[string]bool {
	t.Helper()
	var present map[string]bool
	harness.WaitFor(t, 30*time.Second, "reading the inserted ids back (majority)", func(ctx context.Context) error {
		var err error
		present, err = rc.InsertedIDs(ctx)
		return err
	})
	return present
}

// artifactPath is where a porcupine visualization goes: $RSGUARD_ARTIFACTS when set, else the
// test's temporary directory.
func artifactPath(t testing.TB, name string) string {
	dir := os.Getenv("RSGUARD_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir %s: %v", dir, err)
	}
	return filepath.Join(dir, name)
}

// TestDrillLinearizablePrimaryKill: four clients read (linearizable and majority), write and
// CAS three keys with w:"majority" while an inserter inserts, through a SIGKILL of the primary's
// mongod with rsguard sidecars failing over. The history must be linearizable (drill/check with
// porcupine) and no acknowledged insert may be missing.
func TestDrillLinearizablePrimaryKill(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	if supBin == "" {
		t.Skip("e2e: ./cmd/supervisor is not built yet")
	}
	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{})
	cars.Start(t)
	cars.WaitSettled(t, drillSettleTimeout)
	p := d.WaitHealthy(t, drillRejoinTimeout)

	rc := dialRegisters(t, d.data, mongo.RegisterOptions{})
	w := startRegisterWorkload(t, rc, 4, []string{"x", "y", "z"}, []mongo.ReadLevel{mongo.ReadLinearizable, mongo.ReadMajority})
	harness.WaitFor(t, 30*time.Second, "the workload's first operations", func(context.Context) error {
		if n := w.okSince.Load(); n < 20 {
			return fmt.Errorf("%d operations answered", n)
		}
		return nil
	})

	ctx := context.Background()
	d.c.Timeline.Mark("SIGKILL primary %s under the register workload", p)
	t0 := time.Now()
	w.since.Store(t0.UnixNano())
	w.okSince.Store(0)
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
		if n := w.okSince.Load(); n < 200 || time.Since(at) < 3*time.Second {
			return fmt.Errorf("%d operations answered since the kill", n)
		}
		return nil
	})
	w.Stop()
	d.c.Timeline.Mark("+%s workload stopped", secs(time.Since(t0)))

	res, err := check.CheckLinearizable(w.h, time.Minute, artifactPath(t, "linearizable-primary-kill.html"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("history: %d operations (%d ok, %d failed, %d unknown), %d checked on %d keys in %s: %s",
		res.Counts.Ops, res.Counts.OK, res.Counts.Failed, res.Counts.Unknown, res.Checked, res.Keys, res.Elapsed, res.Verdict)
	if err := res.Err(); err != nil {
		t.Errorf("LINEARIZABILITY VIOLATION through a primary kill: %v", err)
	}
	acc := w.ins.Account(readBackInserts(t, rc))
	t.Logf("inserts: %d attempted, %d acknowledged, %d present (%d unacknowledged but committed)", acc.Attempted, acc.Acked, acc.Present, acc.UnackedPresent)
	if acc.Acked == 0 {
		t.Error("no insert was acknowledged: the accounting proves nothing")
	}
	if err := acc.Err(); err != nil {
		t.Errorf("INSERT ACCOUNTING VIOLATION: %v", err)
	}

	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	d.c.WaitState(t, p, "SECONDARY", drillRejoinTimeout)
}

// TestDrillCheckersCatchBrokenPolicies proves the checkers can fail, on one set and quickly:
//   - stale reads: a key written w:1 by a primary whose secondaries stopped applying
//     (rsSyncApplyStop), then read with readConcern "local" from a secondary, must make the
//     history not linearizable;
//   - lost w:1 writes: inserts acknowledged w:1 by a primary whose secondaries stopped fetching
//     (stopReplProducer), then SIGKILLed, are missing on the new primary: the insert accounting
//     must report them lost.
func TestDrillCheckersCatchBrokenPolicies(t *testing.T) {
	d := newDrillSet(t, 3, 0, 0)
	defer d.c.Timeline.Log(t)
	p := d.WaitHealthy(t, drillRejoinTimeout)
	ctx := context.Background()
	var secs []*harness.Host
	for _, h := range d.data {
		if h != p {
			secs = append(secs, h)
		}
	}
	// One client writes, another reads from a secondary: the broken read policy.
	writer := dialRegisters(t, d.data, mongo.RegisterOptions{W1: true})
	reader := dialRegisters(t, d.data, mongo.RegisterOptions{ReadPreference: "secondaryPreferred"})
	h := check.NewHistory(check.HistoryOptions{})
	do := func(client int, op check.Op) {
		t.Helper()
		id, err := h.Begin(client, op)
		if err != nil {
			t.Fatal(err)
		}
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var out check.Output
		switch op.Kind {
		case check.OpWrite:
			err = writer.Write(octx, op.Key, op.Value)
		case check.OpRead:
			out.Value, err = reader.Read(octx, op.Key, mongo.ReadLocal)
		}
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if err := h.End(id, out, nil, registerClassify); err != nil {
			t.Fatal(err)
		}
	}
	do(0, check.Write("k", 1))
	direct := map[*harness.Host]*mongodrv.Client{}
	for _, s := range secs {
		direct[s] = s.Client(t)
	}
	harness.WaitFor(t, 20*time.Second, "the secondaries to have k=1", func(ctx context.Context) error {
		for _, s := range secs {
			if v, err := secondaryValue(ctx, direct[s], "k"); err != nil || v != 1 {
				return fmt.Errorf("%s: k=%d (%v)", s, v, err)
			}
		}
		return nil
	})
	lagged := time.Now()
	if err := d.c.LagSecondaries(ctx, true, secs...); err != nil {
		t.Fatal(err)
	}
	// The applier stops at its next batch (oplog_applier_impl.cpp logs 21229 there).
	harness.WaitFor(t, 20*time.Second, "the secondaries' appliers to block (log 21229)", func(context.Context) error {
		for _, s := range secs {
			if _, ok := lastLogTime(s, 21229, lagged.Add(-time.Second)); !ok {
				return fmt.Errorf("%s: applier not blocked yet", s)
			}
		}
		return nil
	})
	d.c.Timeline.Mark("secondaries stopped applying; w:1 write k=2, then local reads from a secondary")
	do(0, check.Write("k", 2))
	do(1, check.Read("k"))
	res, err := check.CheckLinearizable(h, time.Minute, artifactPath(t, "linearizable-broken-policy.html"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != check.NotLinearizable || !errors.Is(res.Err(), check.ErrNotLinearizable) {
		t.Fatalf("stale local read from a lagging secondary after an acknowledged write: verdict %s, want %s", res.Verdict, check.NotLinearizable)
	}
	t.Logf("stale reads caught: %v", res.Err())
	if err := d.c.LagSecondaries(ctx, false, secs...); err != nil {
		t.Fatal(err)
	}

	// Lost w:1 writes.
	d.WaitHealthy(t, drillRejoinTimeout)
	for _, s := range secs {
		setFailPoint(t, s, "stopReplProducer", "alwaysOn")
	}
	ins := check.NewInserts()
	for i := range 20 {
		id := fmt.Sprintf("w1-%02d", i)
		if err := ins.Attempt(id); err != nil {
			t.Fatal(err)
		}
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := writer.Insert(octx, id)
		cancel()
		if err != nil {
			t.Fatalf("w:1 insert %s: %v", id, err)
		}
		if err := ins.Ack(id); err != nil {
			t.Fatal(err)
		}
	}
	d.c.Timeline.Mark("20 w:1 inserts acknowledged by %s, no secondary fetching; SIGKILL it", p)
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		setFailPoint(t, s, "stopReplProducer", "off")
	}
	harness.WaitFor(t, drillFailoverTimeout, "a new primary after replSetStepUp", func(ctx context.Context) error {
		if _, err := d.c.Primary(ctx); err == nil {
			return nil
		}
		_, err := secs[0].Command(ctx, bson.D{{Key: "replSetStepUp", Value: 1}})
		return fmt.Errorf("no primary yet (stepUp: %v)", err)
	})
	majority := dialRegisters(t, secs, mongo.RegisterOptions{})
	acc := ins.Account(readBackInserts(t, majority))
	err = acc.Err()
	if !errors.Is(err, check.ErrLostWrites) || len(acc.Lost) != 20 {
		t.Fatalf("w:1 inserts acknowledged by a primary killed before any secondary fetched them: accounting %+v (err %v), want all 20 lost", acc, err)
	}
	t.Logf("lost w:1 writes caught: %v", err)
	if !strings.Contains(err.Error(), "w1-") {
		t.Errorf("the accounting error does not name the lost ids: %v", err)
	}
}

// secondaryValue reads key's v over cl, a direct connection (readConcern local).
func secondaryValue(ctx context.Context, cl *mongodrv.Client, key string) (int64, error) {
	raw, err := cl.Database("rsguard_drill").RunCommand(ctx, bson.D{{Key: "find", Value: "registers"}, {Key: "filter", Value: bson.D{{Key: "_id", Value: key}}}}).Raw()
	if err != nil {
		return 0, err
	}
	docs, err := raw.Lookup("cursor", "firstBatch").Array().Values()
	if err != nil || len(docs) == 0 {
		return 0, err
	}
	v, _ := docs[0].Document().Lookup("v").AsInt64OK()
	return v, nil
}

func setFailPoint(t testing.TB, h *harness.Host, name, mode string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.Command(ctx, bson.D{{Key: "configureFailPoint", Value: name}, {Key: "mode", Value: mode}}); err != nil {
		t.Fatalf("%s: configureFailPoint %s %s: %v", h, name, mode, err)
	}
}
