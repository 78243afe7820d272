package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rsguard/rsguard/drill"
	"github.com/rsguard/rsguard/e2e/harness"
)

// The e2e drills' workload is drill's (one implementation for `supervisor drill`, the demo and
// these tests): one w:"majority" writer inserting {_id: seq} through a replica-set client with
// retryable writes, every attempt recorded. Only what is specific to a test stays here: polling
// for the first acknowledgement after a fault, and reading one member's copy back.

// drillWriteTimeout bounds one insert, so a stalled or dead primary shows as failing writes
// rather than one insert hanging across the whole outage.
const drillWriteTimeout = 3 * time.Second

// drillWriteEvery is the writer's period: an application writing about every 75 ms.
const drillWriteEvery = 75 * time.Millisecond

// workload is drill.Workload with the collection it writes to.
type workload struct {
	*drill.Workload
	coll  string
	every time.Duration
}

func startWorkload(t testing.TB, d *drillSet, collName string) *workload {
	t.Helper()
	return startWorkloadEvery(t, d, collName, drillWriteEvery)
}

// startWorkloadEvery is startWorkload writing every period.
func startWorkloadEvery(t testing.TB, d *drillSet, collName string, every time.Duration) *workload {
	t.Helper()
	store, closeStore, err := drill.DialStoreWith(context.Background(), drill.StoreOptions{Seeds: drill.Seeds{URI: d.c.URI()},
		Database: "drill", Collection: collName, ServerSelectionTimeout: 5 * time.Second, AppName: "rsguard-e2e"})
	if err != nil {
		t.Fatalf("workload client: %v", err)
	}
	w := &workload{coll: collName, every: every,
		Workload: drill.StartWorkload(context.Background(), store, drill.WorkloadOptions{Majority: 1, Every: every, Timeout: drillWriteTimeout})}
	t.Cleanup(func() {
		w.Stop()
		_ = closeStore(context.Background())
	})
	return w
}

// acked lists the acknowledged ids.
func (w *workload) acked() []int64 {
	var out []int64
	for _, o := range w.Rec.Ops() {
		if o.Kind == drill.OpMajority && o.OK() {
			out = append(out, o.ID)
		}
	}
	return out
}

// around summarises the inserts around a fault at t0 (drill.StatsAround).
func (w *workload) around(t0 time.Time) drill.Around {
	return drill.StatsAround(w.Rec.Ops(), drill.OpMajority, t0, w.every)
}

// firstAckAfter is the first write acknowledged after the fault at t0 by whoever took over: a
// reply to an insert the old primary acknowledged just before t0 does not count.
func (w *workload) firstAckAfter(t0 time.Time) (drill.Op, bool) {
	if a := w.around(t0); a.FirstOK != nil {
		return *a.FirstOK, true
	}
	return drill.Op{}, false
}

// failuresAfter counts the failed inserts that started at or after t0, and gives the first.
func (w *workload) failuresAfter(t0 time.Time) (int, error) {
	n, first := 0, ""
	for _, o := range w.Rec.Ops() {
		if o.Kind == drill.OpMajority && !o.OK() && !o.Start.Before(t0) {
			if n == 0 {
				first = o.Err
			}
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	return n, errors.New(first)
}

// waitAckAfter polls until a write is acknowledged after t0.
func (w *workload) waitAckAfter(ctx context.Context, t0 time.Time, timeout time.Duration) (drill.Op, error) {
	var op drill.Op
	err := harness.Poll(ctx, timeout, func(context.Context) error {
		a := w.around(t0)
		switch {
		case a.FirstOK != nil:
			op = *a.FirstOK
			return nil
		case a.FirstFail != nil:
			return fmt.Errorf("%d writes failed, first since: %s", a.Failed, a.FirstFail.Err)
		}
		return errors.New("no write acknowledged since")
	})
	return op, err
}

// verify stops the workload and reads every id back from member p (a direct connection, its own
// copy, local read concern): every acknowledged w:"majority" insert must be there, and nothing
// the workload did not send.
func (w *workload) verify(t testing.TB, p *harness.Host) (acked int) {
	t.Helper()
	w.Stop()
	if w.Rec.Acked(drill.OpMajority) == 0 {
		t.Fatalf("the workload had no acknowledged write at all")
	}
	coll := p.Client(t).Database("drill").Collection(w.coll)
	present := map[string]bool{}
	harness.WaitFor(t, 30*time.Second, "reading the acknowledged ids back from "+p.String(), func(ctx context.Context) error {
		clear(present)
		cur, err := coll.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return err
		}
		var docs []struct {
			ID int64 `bson:"_id"`
		}
		if err := cur.All(ctx, &docs); err != nil {
			return err
		}
		for _, d := range docs {
			present[fmt.Sprint(d.ID)] = true
		}
		return nil
	})
	acct := w.Majority.Account(present)
	if err := acct.Err(); err != nil {
		t.Errorf("on %s: %v", p, err)
	}
	return w.Rec.Acked(drill.OpMajority)
}
