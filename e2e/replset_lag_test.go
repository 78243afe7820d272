package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rsguard/rsguard/e2e/harness"
)

// appliedOpTimes reads each member's optime.ts from replSetGetStatus on h.
func appliedOpTimes(ctx context.Context, h *harness.Host) (map[string]bson.Timestamp, error) {
	raw, err := h.Command(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}})
	if err != nil {
		return nil, err
	}
	var st struct {
		Members []struct {
			Name   string `bson:"name"`
			Optime struct {
				TS bson.Timestamp `bson:"ts"`
			} `bson:"optime"`
		} `bson:"members"`
	}
	if err := bson.Unmarshal(raw, &st); err != nil {
		return nil, err
	}
	out := map[string]bson.Timestamp{}
	for _, m := range st.Members {
		out[m.Name] = m.Optime.TS
	}
	return out, nil
}

// TestReplSetLagSecondaries: harness.Cluster.LagSecondaries (mongod's rsSyncApplyStop on the
// secondaries, oplog_applier_impl.cpp) makes them stop applying while the primary's disk is
// fine: w:1 j:true writes stay fast, w:"majority" writes time out with WriteConcernFailed (64),
// the primary sees the secondaries' optimes stop; resuming lets them catch up.
func TestReplSetLagSecondaries(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: fastSettings})
	defer c.Timeline.Log(t)
	p := c.WaitPrimary(t, 30*time.Second)
	ctx := context.Background()
	db := p.Client(t).Database("lag")
	insert := func(id int, wc bson.D) error {
		return db.RunCommand(ctx, bson.D{{Key: "insert", Value: "c"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: id}}}},
			{Key: "writeConcern", Value: wc}}).Err()
	}
	majority := bson.D{{Key: "w", Value: "majority"}, {Key: "wtimeout", Value: 1000}}
	if err := insert(0, majority); err != nil {
		t.Fatalf("w:majority before lagging: %v", err)
	}
	if err := c.LagSecondaries(ctx, true); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		start := time.Now()
		if err := insert(i, bson.D{{Key: "w", Value: 1}, {Key: "j", Value: true}}); err != nil {
			t.Fatalf("w:1 j:true while the secondaries lag: %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("w:1 j:true took %v on a primary whose disk is fine", d)
		}
	}
	err := insert(100, majority)
	var we mongo.WriteException
	if !errors.As(err, &we) || we.WriteConcernError == nil || we.WriteConcernError.Code != 64 {
		t.Fatalf("w:majority while the secondaries do not apply: want writeConcernError 64, got %v", err)
	}
	ots, err := appliedOpTimes(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.Others(p) {
		if !ots[h.HostPort()].Before(ots[p.HostPort()]) {
			t.Fatalf("the primary sees %s at %v, not behind its own %v", h, ots[h.HostPort()], ots[p.HostPort()])
		}
	}
	if err := c.LagSecondaries(ctx, false, c.Others(p)...); err != nil {
		t.Fatal(err)
	}
	id := 200
	harness.WaitFor(t, 20*time.Second, "w:majority after resuming", func(ctx context.Context) error {
		id++ // an attempt that timed out still wrote its document
		return insert(id, bson.D{{Key: "w", Value: "majority"}, {Key: "wtimeout", Value: 2000}})
	})
}
