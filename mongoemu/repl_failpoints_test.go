package mongoemu

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

func (ts *testSet) setFP(i int, name, mode string) {
	ts.t.Helper()
	if err := ts.admin(i, bson.D{{Key: "configureFailPoint", Value: name}, {Key: "mode", Value: mode}}, nil); err != nil {
		ts.t.Fatal(err)
	}
}

func logHas(tn *testNode, id int) bool {
	lines, _ := tn.events.lines()
	needle := `"id":` + itoa(id) + `,`
	for _, l := range lines {
		if strings.Contains(l, needle) {
			return true
		}
	}
	return false
}

// TestRsSyncApplyStop: with rsSyncApplyStop on the secondaries (oplog_applier_impl.cpp
// OplogApplierImpl::_run, log id 21229) their lastApplied stops while their fetchers keep
// fetching into the oplog buffer; w:"majority" writes time out on the 3-node set while w:1 j:true
// writes stay fast on the primary, whose disk is fine; turning it off catches up.
func TestRsSyncApplyStop(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	ctx := context.Background()
	db := ts.clients[p].Database("t")
	j := true
	w1j := db.Collection("c", options.Collection().SetWriteConcern(&writeconcern.WriteConcern{W: 1, Journal: &j}))
	maj := db.Collection("c", options.Collection().SetWriteConcern(writeconcern.Majority()))
	if _, err := maj.InsertOne(ctx, bson.D{{Key: "_id", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	var secs []int
	for i := range ts.nodes {
		if i != p {
			secs = append(secs, i)
			ts.setFP(i, "rsSyncApplyStop", "alwaysOn")
		}
	}
	for _, s := range secs {
		eventually(t, 10*time.Second, "the applier to block (log 21229)", func() bool { return logHas(ts.nodes[s], 21229) })
	}
	frozen := map[int]opTime{}
	for _, s := range secs {
		frozen[s] = ts.lastApplied(s)
	}
	for i := 1; i <= 5; i++ {
		start := time.Now()
		if _, err := w1j.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatalf("w:1 j:true insert: %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("a w:1 j:true write took %v on a primary whose disk is fine", d)
		}
	}
	err := db.RunCommand(ctx, bson.D{{Key: "insert", Value: "c"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: 100}}}},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: "majority"}, {Key: "wtimeout", Value: 500}}}}).Err()
	var we mongo.WriteException
	if !errors.As(err, &we) || we.WriteConcernError == nil || we.WriteConcernError.Code != 64 {
		t.Fatalf("w:majority with the secondaries not applying: want writeConcernError 64, got %v", err)
	}
	// The fetchers keep fetching: the entries wait in the buffer, not applied.
	for _, s := range secs {
		eventually(t, 10*time.Second, "fetched but unapplied entries on a secondary", func() bool {
			a := ts.nodes[s].repl.applier.Load()
			return a != nil && a.buffered() >= 6
		})
		if got := ts.lastApplied(s); got != frozen[s] {
			t.Fatalf("secondary %d applied %v under rsSyncApplyStop (was %v)", s, got, frozen[s])
		}
	}
	// The primary sees the secondaries' applied optimes frozen too (replSetUpdatePosition).
	top := ts.lastApplied(p)
	ts.nodes[p].mu.Lock()
	for _, s := range secs {
		if !ts.nodes[p].repl.members[s].applied.less(top) {
			ts.nodes[p].mu.Unlock()
			t.Fatalf("the primary believes secondary %d applied up to its top", s)
		}
	}
	ts.nodes[p].mu.Unlock()

	for _, s := range secs {
		ts.setFP(s, "rsSyncApplyStop", "off")
	}
	for _, s := range secs {
		eventually(t, 10*time.Second, "the secondary to catch up", func() bool { return !ts.lastApplied(s).less(top) })
	}
	if _, err := maj.InsertOne(ctx, bson.D{{Key: "_id", Value: 200}}); err != nil {
		t.Fatalf("w:majority after turning rsSyncApplyStop off: %v", err)
	}
}

// TestStopReplProducer: with stopReplProducer on, a secondary stops fetching (bgsync.cpp
// _produce logs 21079 and picks no sync source; oplog_fetcher.cpp ignores a batch that arrives),
// so it applies nothing new; off again, it fetches and catches up.
func TestStopReplProducer(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	ctx := context.Background()
	s := (p + 1) % 3
	ts.setFP(s, "stopReplProducer", "alwaysOn")
	eventually(t, 10*time.Second, "bgsync to log 21079", func() bool { return logHas(ts.nodes[s], 21079) })
	eventually(t, 10*time.Second, "no sync source", func() bool {
		ts.nodes[s].mu.Lock()
		defer ts.nodes[s].mu.Unlock()
		return ts.nodes[s].repl.syncSource == ""
	})
	before := ts.lastApplied(s)
	maj := ts.clients[p].Database("t").Collection("c", options.Collection().SetWriteConcern(writeconcern.Majority()))
	for i := range 5 {
		if _, err := maj.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatalf("w:majority with one of two secondaries fetching: %v", err)
		}
	}
	if got := ts.lastApplied(s); got != before {
		t.Fatalf("a secondary with stopReplProducer applied %v (was %v)", got, before)
	}
	ts.setFP(s, "stopReplProducer", "off")
	top := ts.lastApplied(p)
	eventually(t, 10*time.Second, "the secondary to catch up", func() bool { return !ts.lastApplied(s).less(top) })
}

// TestRsSyncApplyStopHoldsDrain: a member elected while rsSyncApplyStop is on stays PRIMARY in
// drain mode, not writable, until the fail point is off (oplog_applier_impl.cpp: no
// signalDrainComplete while it is set).
func TestRsSyncApplyStopHoldsDrain(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	s := (p + 1) % 3
	// The voters refuse a candidate behind them (spec §5.3): with no periodic no-op and no
	// writes, s stays as fresh as the others while it does not apply.
	for i := range 3 {
		if err := ts.admin(i, bson.D{{Key: "setParameter", Value: 1}, {Key: "writePeriodicNoops", Value: false}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	ts.waitCaughtUp(p, s)
	ts.setFP(s, "rsSyncApplyStop", "alwaysOn")
	stepUp := bson.D{{Key: "replSetStepUp", Value: 1}}
	eventually(t, 20*time.Second, "PRIMARY in drain mode", func() bool {
		st, writable := memberStateOf(ts.nodes[s])
		if st == statePrimary {
			return !writable
		}
		_ = ts.admin(s, stepUp, nil) // answers once PRIMARY; a lost election (load) is retried
		return false
	})
	// The hold must last: poll for half a second that it is still PRIMARY and not writable.
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); {
		if st, writable := memberStateOf(ts.nodes[s]); st != statePrimary || writable {
			t.Fatalf("with rsSyncApplyStop on the primary-elect left drain mode: %v writable=%v", st, writable)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.setFP(s, "rsSyncApplyStop", "off")
	eventually(t, 10*time.Second, "writable once the applier runs", func() bool {
		st, writable := memberStateOf(ts.nodes[s])
		return st == statePrimary && writable
	})
}
