package mongoemu

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// rcFind runs {find: "c", filter, readConcern: rc, maxTimeMS} on node i and returns the "v" of
// every document by _id.
func (ts *testSet) rcFind(i int, filter bson.D, rc bson.D, maxTimeMS int) (map[int32]int32, error) {
	cmd := bson.D{{Key: "find", Value: "c"}, {Key: "filter", Value: filter}}
	if rc != nil {
		cmd = append(cmd, bson.E{Key: "readConcern", Value: rc})
	}
	if maxTimeMS > 0 {
		cmd = append(cmd, bson.E{Key: "maxTimeMS", Value: maxTimeMS})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out struct {
		Cursor struct {
			FirstBatch []bson.Raw `bson:"firstBatch"`
		} `bson:"cursor"`
	}
	if err := ts.clients[i].Database("t").RunCommand(ctx, cmd).Decode(&out); err != nil {
		return nil, err
	}
	got := map[int32]int32{}
	for _, d := range out.Cursor.FirstBatch {
		v, _ := d.Lookup("v").Int32OK()
		got[d.Lookup("_id").Int32()] = v
	}
	return got, nil
}

func level(l string) bson.D { return bson.D{{Key: "level", Value: l}} }

func wantRCCode(t *testing.T, what string, err error, code int32) {
	t.Helper()
	var ce mongo.CommandError
	if !errors.As(err, &ce) || ce.Code != code {
		t.Fatalf("%s: want error code %d, got %v", what, code, err)
	}
}

func sameDocs(a, b map[int32]int32) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// stopSecondaries turns rsSyncApplyStop on every member but p and waits for the appliers to stop.
func (ts *testSet) stopSecondaries(p int, mode string) {
	ts.t.Helper()
	for i := range ts.nodes {
		if i != p {
			ts.setFP(i, "rsSyncApplyStop", mode)
		}
	}
	if mode == "off" {
		return
	}
	for i := range ts.nodes {
		if i != p {
			eventually(ts.t, 10*time.Second, "the applier to block (log 21229)", func() bool { return logHas(ts.nodes[i], 21229) })
		}
	}
}

// TestReadConcernMajorityHidesUncommittedWrites: a w:1 update, delete and insert that no
// secondary applied are visible to local reads but not to majority reads, on the primary (find
// by _id, find all, count) and on a secondary; once the secondaries apply them, majority reads
// see them. mongod reads the committed snapshot (read_concern_mongod.cpp kMajorityCommitted).
func TestReadConcernMajorityHidesUncommittedWrites(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	sec := (p + 1) % 3
	ctx := context.Background()
	db := ts.clients[p].Database("t")
	maj := db.Collection("c", options.Collection().SetWriteConcern(writeconcern.Majority()))
	w1 := db.Collection("c", options.Collection().SetWriteConcern(writeconcern.W1()))
	for i := int32(1); i <= 3; i++ {
		if _, err := maj.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "v", Value: i * 10}}); err != nil {
			t.Fatal(err)
		}
	}
	committed := map[int32]int32{1: 10, 2: 20, 3: 30}
	eventually(t, 10*time.Second, "the secondary's majority read to see the committed documents", func() bool {
		got, err := ts.rcFind(sec, bson.D{}, level("majority"), 0)
		return err == nil && sameDocs(got, committed)
	})
	ts.stopSecondaries(p, "alwaysOn")
	if _, err := w1.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 11}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w1.DeleteOne(ctx, bson.D{{Key: "_id", Value: 2}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w1.InsertOne(ctx, bson.D{{Key: "_id", Value: 4}, {Key: "v", Value: 40}}); err != nil {
		t.Fatal(err)
	}
	local := map[int32]int32{1: 11, 3: 30, 4: 40}
	if got, err := ts.rcFind(p, bson.D{}, level("local"), 0); err != nil || !sameDocs(got, local) {
		t.Fatalf("local read on the primary: %v %v, want %v", got, err, local)
	}
	for _, node := range []int{p, sec} {
		got, err := ts.rcFind(node, bson.D{}, level("majority"), 0)
		if err != nil || !sameDocs(got, committed) {
			t.Fatalf("majority read on node %d: %v %v, want the committed %v", node, got, err, committed)
		}
		for id, want := range map[int32]int32{1: 10, 2: 20} {
			got, err := ts.rcFind(node, bson.D{{Key: "_id", Value: id}}, level("majority"), 0)
			if err != nil || len(got) != 1 || got[id] != want {
				t.Fatalf("majority read of _id %d on node %d: %v %v, want v=%d", id, node, got, err, want)
			}
		}
		if got, err := ts.rcFind(node, bson.D{{Key: "_id", Value: 4}}, level("majority"), 0); err != nil || len(got) != 0 {
			t.Fatalf("majority read of the uncommitted insert on node %d: %v %v", node, got, err)
		}
	}
	// A cursor's getMores read the committed snapshot too.
	cur, err := db.Collection("c", options.Collection().SetReadConcern(readconcern.Majority())).
		Find(ctx, bson.D{}, options.Find().SetBatchSize(1))
	if err != nil {
		t.Fatal(err)
	}
	batched := map[int32]int32{}
	for cur.Next(ctx) {
		v, _ := cur.Current.Lookup("v").Int32OK()
		batched[cur.Current.Lookup("_id").Int32()] = v
	}
	if err := cur.Err(); err != nil || !sameDocs(batched, committed) {
		t.Fatalf("majority find in batches of 1: %v %v, want the committed %v", batched, err, committed)
	}
	// Its operationTime is the snapshot's, older than a local read's (computeOperationTime).
	opTime := func(l string) bson.Timestamp {
		var r struct {
			OperationTime bson.Timestamp `bson:"operationTime"`
		}
		if err := db.RunCommand(ctx, bson.D{{Key: "find", Value: "c"}, {Key: "readConcern", Value: level(l)}}).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return r.OperationTime
	}
	if m, l := opTime("majority"), opTime("local"); !m.Before(l) {
		t.Fatalf("majority read operationTime %v not before the local read's %v while writes are uncommitted", m, l)
	}
	var cnt struct {
		N int64 `bson:"n"`
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "count", Value: "c"}, {Key: "query", Value: bson.D{{Key: "v", Value: bson.D{{Key: "$gte", Value: 20}}}}},
		{Key: "readConcern", Value: level("majority")}}).Decode(&cnt); err != nil || cnt.N != 2 {
		t.Fatalf("majority count of v >= 20: %d %v, want 2 (20, 30)", cnt.N, err)
	}
	ts.stopSecondaries(p, "off")
	eventually(t, 10*time.Second, "majority reads to see the writes once a majority applied them", func() bool {
		got, err := ts.rcFind(p, bson.D{}, level("majority"), 0)
		return err == nil && sameDocs(got, local)
	})
}

// TestReadConcernLinearizable: refused on a secondary (10107), answered on a primary that can
// reach a majority, and never answered by a primary whose no-op write cannot be majority
// committed: it runs until maxTimeMS (waitForLinearizableReadConcernImpl).
func TestReadConcernLinearizable(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	sec := (p + 1) % 3
	ctx := context.Background()
	maj := ts.clients[p].Database("t").Collection("c", options.Collection().SetWriteConcern(writeconcern.Majority()))
	if _, err := maj.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: 7}}); err != nil {
		t.Fatal(err)
	}
	_, err := ts.rcFind(sec, bson.D{{Key: "_id", Value: 1}}, level("linearizable"), 0)
	wantRCCode(t, "linearizable read on a secondary", err, 10107)
	got, err := ts.rcFind(p, bson.D{{Key: "_id", Value: 1}}, level("linearizable"), 0)
	if err != nil || got[1] != 7 {
		t.Fatalf("linearizable read on the primary: %v %v", got, err)
	}
	ts.stopSecondaries(p, "alwaysOn")
	start := time.Now()
	_, err = ts.rcFind(p, bson.D{{Key: "_id", Value: 1}}, level("linearizable"), 500)
	wantRCCode(t, "linearizable read on a primary cut off from the majority", err, 50)
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("the linearizable read returned after %v, before its maxTimeMS", d)
	}
	// A majority read still answers there (from the snapshot).
	if _, err := ts.rcFind(p, bson.D{}, level("majority"), 0); err != nil {
		t.Fatalf("majority read: %v", err)
	}
	// Without maxTimeMS it waits until the primary steps down, and then fails.
	done := make(chan error, 1)
	go func() {
		_, err := ts.rcFind(p, bson.D{{Key: "_id", Value: 1}}, level("linearizable"), 0)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a linearizable read returned (%v) while its no-op cannot be majority committed", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := ts.admin(p, bson.D{{Key: "replSetStepDown", Value: 60}, {Key: "secondaryCatchUpPeriodSecs", Value: 0}, {Key: "force", Value: true}}, nil); err != nil {
		t.Fatalf("replSetStepDown: %v", err)
	}
	select {
	case err := <-done:
		var ce mongo.CommandError
		if !errors.As(err, &ce) || (ce.Code != 189 && ce.Code != 11602) {
			t.Fatalf("linearizable read of a primary that stepped down: want PrimarySteppedDown or InterruptedDueToReplStateChange, got %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the linearizable read did not end when its primary stepped down")
	}
	ts.stopSecondaries(p, "off")
	np := ts.waitPrimary(30 * time.Second)
	if _, err := ts.rcFind(np, bson.D{{Key: "_id", Value: 1}}, level("linearizable"), 5000); err != nil {
		t.Fatalf("linearizable read on the new primary: %v", err)
	}
}

// TestReadConcernAfterClusterTime: a majority read after a cluster time the commit point has not
// reached waits (here until maxTimeMS); a local one on the primary does not
// (_waitUntilClusterTimeForRead).
func TestReadConcernAfterClusterTime(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	ctx := context.Background()
	db := ts.clients[p].Database("t")
	if _, err := db.Collection("c", options.Collection().SetWriteConcern(writeconcern.Majority())).InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	ts.stopSecondaries(p, "alwaysOn")
	var res struct {
		OperationTime bson.Timestamp `bson:"operationTime"`
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "insert", Value: "c"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: 2}}}},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: 1}}}}).Decode(&res); err != nil || res.OperationTime.IsZero() {
		t.Fatalf("w:1 insert: %v (operationTime %v)", err, res.OperationTime)
	}
	after := func(l string) bson.D {
		return bson.D{{Key: "level", Value: l}, {Key: "afterClusterTime", Value: res.OperationTime}}
	}
	if got, err := ts.rcFind(p, bson.D{}, after("local"), 0); err != nil || len(got) != 2 {
		t.Fatalf("local read after the insert's time: %v %v", got, err)
	}
	_, err := ts.rcFind(p, bson.D{}, after("majority"), 300)
	wantRCCode(t, "majority read after an uncommitted time", err, 50)
	ts.stopSecondaries(p, "off")
	if got, err := ts.rcFind(p, bson.D{}, after("majority"), 10000); err != nil || len(got) != 2 {
		t.Fatalf("majority read after the insert's time once committed: %v %v", got, err)
	}
}

// TestReadConcernBadInput: the codes ReadConcernArgs::parse, waitForReadConcernImpl and the
// command support check answer.
func TestReadConcernBadInput(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	ctx := context.Background()
	db := ts.clients[p].Database("t")
	future := bson.Timestamp{T: uint32(time.Now().Add(time.Hour).Unix()), I: 1}
	for _, c := range []struct {
		name string
		cmd  bson.D
		code int32
	}{
		{"unknown level", bson.D{{Key: "find", Value: "c"}, {Key: "readConcern", Value: level("strong")}}, 9},
		{"not an object", bson.D{{Key: "find", Value: "c"}, {Key: "readConcern", Value: 1}}, 9},
		{"level not a string", bson.D{{Key: "find", Value: "c"}, {Key: "readConcern", Value: bson.D{{Key: "level", Value: 1}}}}, 14},
		{"unknown field", bson.D{{Key: "find", Value: "c"}, {Key: "readConcern", Value: bson.D{{Key: "levle", Value: "majority"}}}}, 72},
		{"insert with majority", bson.D{{Key: "insert", Value: "c"}, {Key: "documents", Value: bson.A{bson.D{}}}, {Key: "readConcern", Value: level("majority")}}, 72},
		{"count with snapshot", bson.D{{Key: "count", Value: "c"}, {Key: "readConcern", Value: level("snapshot")}}, 72},
		{"available after a cluster time", bson.D{{Key: "find", Value: "c"}, {Key: "readConcern", Value: bson.D{{Key: "level", Value: "available"}, {Key: "afterClusterTime", Value: bson.Timestamp{T: 1, I: 1}}}}}, 72},
		{"cluster time in the future", bson.D{{Key: "find", Value: "c"}, {Key: "readConcern", Value: bson.D{{Key: "level", Value: "majority"}, {Key: "afterClusterTime", Value: future}}}}, 72},
		{"linearizable with afterOpTime", bson.D{{Key: "find", Value: "c"}, {Key: "readConcern", Value: bson.D{{Key: "level", Value: "linearizable"},
			{Key: "afterOpTime", Value: bson.D{{Key: "ts", Value: bson.Timestamp{T: 1, I: 1}}, {Key: "t", Value: int64(1)}}}}}}, 9},
	} {
		err := db.RunCommand(ctx, c.cmd).Err()
		wantRCCode(t, c.name, err, c.code)
	}
	// snapshot outside a transaction reads the committed snapshot (5.0+), once there is one.
	if _, err := db.Collection("c", options.Collection().SetWriteConcern(writeconcern.Majority())).InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.rcFind(p, bson.D{}, level("snapshot"), 5000); err != nil {
		t.Fatalf("find with readConcern snapshot: %v", err)
	}
}
