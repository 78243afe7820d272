package mongoemu

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rsguard/rsguard/mongoemu/wire"
)

func seedNumbers(t *testing.T, ctx context.Context, coll *mongo.Collection, n int) {
	t.Helper()
	docs := make([]any, n)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: i}, {Key: "v", Value: i % 10}, {Key: "tags", Value: bson.A{"t" + string(rune('a'+i%3)), "all"}}}
	}
	_, err := coll.InsertMany(ctx, docs)
	mustOK(t, err)
}

func TestFindCursorAcrossGetMores(t *testing.T) {
	ctx := crudCtx(t)
	var getMores atomic.Int32
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "getMore" {
			getMores.Add(1)
		}
	}}
	coll := startTestNode(t, Options{}).client(t, options.Client().SetMonitor(mon)).Database("test").Collection("nums")
	seedNumbers(t, ctx, coll, 1000)

	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(50).SetSort(bson.D{{Key: "_id", Value: -1}}))
	mustOK(t, err)
	want := 999
	for cur.Next(ctx) {
		if id := cur.Current.Lookup("_id").Int32(); int(id) != want {
			t.Fatalf("sorted cursor: got _id %d, want %d", id, want)
		}
		want--
	}
	mustOK(t, cur.Err())
	if want != -1 {
		t.Fatalf("cursor stopped early at %d", want)
	}
	if g := getMores.Load(); g != 19 {
		t.Fatalf("1000 docs in batches of 50 need 19 getMores, saw %d", g)
	}

	// filter + projection + skip + limit, in natural (_id) order
	cur, err = coll.Find(ctx, bson.D{{Key: "v", Value: 3}},
		options.Find().SetProjection(bson.D{{Key: "v", Value: 1}}).SetSkip(2).SetLimit(5).SetBatchSize(2))
	mustOK(t, err)
	var got []bson.M
	mustOK(t, cur.All(ctx, &got))
	if len(got) != 5 || got[0]["_id"] != int32(23) || got[4]["_id"] != int32(63) || got[0]["tags"] != nil {
		t.Fatalf("filter/projection/skip/limit: %v", got)
	}
}

func TestKillCursorsAndGetMoreErrors(t *testing.T) {
	ctx := crudCtx(t)
	db := startTestNode(t, Options{}).client(t).Database("test")
	seedNumbers(t, ctx, db.Collection("nums"), 20)

	open := func() int64 {
		raw, err := db.RunCommand(ctx, bson.D{{Key: "find", Value: "nums"}, {Key: "batchSize", Value: 2}}).Raw()
		mustOK(t, err)
		id := raw.Lookup("cursor", "id").Int64()
		if id <= 0 || raw.Lookup("cursor", "ns").StringValue() != "test.nums" {
			t.Fatalf("find reply: %v", raw)
		}
		return id
	}
	id := open()
	// Raw getMores run without a deadline: the driver would turn it into maxTimeMS, which
	// mongod (and mongoemu) refuse on a non-awaitData cursor.
	bg := context.Background()
	err := db.RunCommand(bg, bson.D{{Key: "getMore", Value: id}, {Key: "collection", Value: "other"}}).Err()
	if serverCode(err) != 13 || !contains(err.Error(), "Requested getMore on namespace 'test.other', but cursor belongs to a different namespace test.nums") {
		t.Fatalf("getMore on another namespace: %v", err)
	}
	raw, err := db.RunCommand(ctx, bson.D{{Key: "killCursors", Value: "nums"}, {Key: "cursors", Value: bson.A{id, int64(12345)}}}).Raw()
	mustOK(t, err)
	killed, _ := raw.Lookup("cursorsKilled").Array().Values()
	notFound, _ := raw.Lookup("cursorsNotFound").Array().Values()
	if len(killed) != 1 || killed[0].Int64() != id || len(notFound) != 1 {
		t.Fatalf("killCursors reply: %v", raw)
	}
	err = db.RunCommand(bg, bson.D{{Key: "getMore", Value: id}, {Key: "collection", Value: "nums"}}).Err()
	if serverCode(err) != 43 || !contains(err.Error(), "cursor id "+strconv.FormatInt(id, 10)+" not found") {
		t.Fatalf("getMore after kill: %v", err)
	}

	// getMore drains a cursor and reports id 0 at the end.
	id = open()
	raw, err = db.RunCommand(bg, bson.D{{Key: "getMore", Value: id}, {Key: "collection", Value: "nums"}}).Raw()
	mustOK(t, err)
	if raw.Lookup("cursor", "id").Int64() != 0 || len(mustValues(t, raw.Lookup("cursor", "nextBatch"))) != 18 {
		t.Fatalf("draining getMore: %v", raw)
	}
}

func mustValues(t *testing.T, v bson.RawValue) []bson.RawValue {
	t.Helper()
	vals, err := v.Array().Values()
	mustOK(t, err)
	return vals
}

func TestCountDistinctAggregate(t *testing.T) {
	ctx := crudCtx(t)
	coll := startTestNode(t, Options{}).client(t).Database("test").Collection("nums")
	seedNumbers(t, ctx, coll, 100)

	if n, err := coll.CountDocuments(ctx, bson.D{{Key: "v", Value: bson.D{{Key: "$gte", Value: 5}}}}); err != nil || n != 50 {
		t.Fatalf("CountDocuments: %d %v", n, err)
	}
	if n, err := coll.EstimatedDocumentCount(ctx); err != nil || n != 100 {
		t.Fatalf("EstimatedDocumentCount: %d %v", n, err)
	}
	var count bson.Raw
	count, err := coll.Database().RunCommand(ctx, bson.D{{Key: "count", Value: "nums"}, {Key: "query", Value: bson.D{{Key: "v", Value: 1}}}, {Key: "skip", Value: 2}, {Key: "limit", Value: 5}}).Raw()
	mustOK(t, err)
	if count.Lookup("n").Int32() != 5 {
		t.Fatalf("count with skip/limit: %v", count)
	}
	res := coll.Distinct(ctx, "tags", bson.D{{Key: "v", Value: bson.D{{Key: "$lt", Value: 3}}}})
	var tags []string
	mustOK(t, res.Decode(&tags))
	if len(tags) != 4 || tags[0] != "all" || tags[1] != "ta" {
		t.Fatalf("distinct: %v", tags)
	}

	cur, err := coll.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "v", Value: bson.D{{Key: "$in", Value: bson.A{1, 2}}}}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$v"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
		{{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}},
	})
	mustOK(t, err)
	var groups []bson.M
	mustOK(t, cur.All(ctx, &groups))
	if len(groups) != 2 || groups[0]["_id"] != int32(1) || groups[0]["n"] != int32(10) {
		t.Fatalf("aggregate: %v", groups)
	}
	// A big result comes back over getMores.
	cur, err = coll.Aggregate(ctx, mongo.Pipeline{{{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}}}, options.Aggregate().SetBatchSize(7))
	mustOK(t, err)
	var all []bson.M
	mustOK(t, cur.All(ctx, &all))
	if len(all) != 100 {
		t.Fatalf("aggregate over getMores: %d docs", len(all))
	}
	if _, err := coll.Aggregate(ctx, mongo.Pipeline{{{Key: "$out", Value: "x"}}}); err == nil || !contains(err.Error(), "$out is not supported") {
		t.Fatalf("$out: %v", err)
	}
}

func TestFindBadInput(t *testing.T) {
	ctx := crudCtx(t)
	db := startTestNode(t, Options{}).client(t).Database("test")
	cases := []struct {
		name string
		cmd  bson.D
		code int
		msg  string
	}{
		{"non-string collection", bson.D{{Key: "find", Value: 1}}, 73, "collection name has invalid type int"},
		{"bad sort value", bson.D{{Key: "find", Value: "c"}, {Key: "sort", Value: bson.D{{Key: "a", Value: 2}}}}, 15975,
			"$sort key ordering must be 1 (for ascending) or -1 (for descending)"},
		{"non-numeric sort", bson.D{{Key: "find", Value: "c"}, {Key: "sort", Value: bson.D{{Key: "a", Value: "up"}}}}, 15974,
			`Illegal key in $sort specification: a: "up"`},
		{"unknown operator", bson.D{{Key: "find", Value: "c"}, {Key: "filter", Value: bson.D{{Key: "a", Value: bson.D{{Key: "$foo", Value: 1}}}}}}, 2,
			"unknown operator: $foo"},
		{"filter not an object", bson.D{{Key: "find", Value: "c"}, {Key: "filter", Value: 3}}, 14, "BSON field 'find.filter' is the wrong type 'int'"},
		{"negative skip", bson.D{{Key: "find", Value: "c"}, {Key: "skip", Value: -1}}, 51024, "BSON field 'skip' value must be >= 0"},
		{"awaitData without tailable", bson.D{{Key: "find", Value: "c"}, {Key: "awaitData", Value: true}}, 9, "Cannot set 'awaitData'"},
		{"tailable on a normal collection", bson.D{{Key: "find", Value: "c"}, {Key: "tailable", Value: true}}, 2, "tailable cursor requested on non capped collection"},
		{"getMore with an int id", bson.D{{Key: "getMore", Value: int32(5)}, {Key: "collection", Value: "c"}}, 14, "expected type 'long'"},
		{"getMore unknown cursor", bson.D{{Key: "getMore", Value: int64(5)}, {Key: "collection", Value: "c"}}, 43, "cursor id 5 not found"},
	}
	for _, tc := range cases {
		err := db.RunCommand(ctx, tc.cmd).Err()
		if serverCode(err) != tc.code || !contains(err.Error(), tc.msg) {
			t.Errorf("%s: want %d %q, got %v", tc.name, tc.code, tc.msg, err)
		}
	}
}

// An exhaust getMore (OP_MSG exhaustAllowed, what an oplog fetcher uses) streams the remaining
// batches with moreToCome until the cursor is exhausted.
func TestExhaustGetMoreStreamsBatches(t *testing.T) {
	ctx := crudCtx(t)
	tn := startTestNode(t, Options{})
	seedNumbers(t, ctx, tn.client(t).Database("test").Collection("nums"), 10)
	c, err := wire.Dial(ctx, tn.Addr(), 5*time.Second)
	mustOK(t, err)
	defer c.Close()
	first, err := c.Command(ctx, bson.D{{Key: "find", Value: "nums"}, {Key: "batchSize", Value: 2}, {Key: "$db", Value: "test"}}, 5*time.Second)
	mustOK(t, err)
	id := first.Lookup("cursor", "id").Int64()
	reply, err := c.CommandExhaust(ctx, bson.D{{Key: "getMore", Value: id}, {Key: "collection", Value: "nums"},
		{Key: "batchSize", Value: 3}, {Key: "$db", Value: "test"}}, 5*time.Second)
	mustOK(t, err)
	seen := len(mustValues(t, reply.Lookup("cursor", "nextBatch")))
	for c.MoreToCome() {
		if reply, err = c.More(ctx, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		seen += len(mustValues(t, reply.Lookup("cursor", "nextBatch")))
	}
	if seen != 8 || reply.Lookup("cursor", "id").Int64() != 0 {
		t.Fatalf("exhaust stream: %d docs, last reply %v", seen, reply)
	}
}
