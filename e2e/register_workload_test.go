package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rsguard/rsguard/drill"
	"github.com/rsguard/rsguard/drill/check"
	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/mongo"
)

// registerClassify is drill.RegisterOutcome: failed only when mongo.NotApplied is sure.
var registerClassify = drill.RegisterOutcome

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
