package mongoemu

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

func crudCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// serverCode extracts the server code of a driver error (command or write error).
func serverCode(err error) int {
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return int(ce.Code)
	}
	var se mongo.ServerError
	if errors.As(err, &se) && len(se.ErrorCodes()) > 0 {
		return se.ErrorCodes()[0]
	}
	return 0
}

func TestCRUDRoundTrip(t *testing.T) {
	ctx := crudCtx(t)
	coll := startTestNode(t, Options{}).client(t).Database("test").Collection("c")

	ins, err := coll.InsertOne(ctx, bson.D{{Key: "name", Value: "a"}, {Key: "n", Value: 1}, {Key: "tmp", Value: true}})
	mustOK(t, err)
	if _, ok := ins.InsertedID.(bson.ObjectID); !ok {
		t.Fatalf("generated _id should be an ObjectID, got %T", ins.InsertedID)
	}
	var got bson.M
	mustOK(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: ins.InsertedID}}).Decode(&got))
	if got["name"] != "a" {
		t.Fatalf("find by _id: %v", got)
	}

	up, err := coll.UpdateOne(ctx, bson.D{{Key: "name", Value: "a"}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 5}}}, {Key: "$unset", Value: bson.D{{Key: "tmp", Value: ""}}}})
	mustOK(t, err)
	if up.MatchedCount != 1 || up.ModifiedCount != 1 {
		t.Fatalf("update: %+v", up)
	}
	got = nil
	mustOK(t, coll.FindOne(ctx, bson.D{{Key: "name", Value: "a"}}).Decode(&got))
	if got["n"] != int32(6) || got["tmp"] != nil {
		t.Fatalf("after $inc/$unset: %v", got)
	}

	// Upsert: the filter's equality fields seed the new document.
	up, err = coll.UpdateOne(ctx, bson.D{{Key: "name", Value: "b"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 10}}}},
		options.UpdateOne().SetUpsert(true))
	mustOK(t, err)
	if up.UpsertedCount != 1 || up.UpsertedID == nil || up.MatchedCount != 0 {
		t.Fatalf("upsert: %+v", up)
	}
	_, err = coll.InsertMany(ctx, []any{bson.D{{Key: "name", Value: "c"}, {Key: "n", Value: 1}}, bson.D{{Key: "name", Value: "d"}, {Key: "n", Value: 1}}})
	mustOK(t, err)
	many, err := coll.UpdateMany(ctx, bson.D{{Key: "n", Value: bson.D{{Key: "$lt", Value: 10}}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "small", Value: true}}}})
	mustOK(t, err)
	if many.MatchedCount != 3 || many.ModifiedCount != 3 {
		t.Fatalf("multi update: %+v", many)
	}
	// A no-op update matches without modifying.
	noop, err := coll.UpdateOne(ctx, bson.D{{Key: "name", Value: "c"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "small", Value: true}}}})
	mustOK(t, err)
	if noop.MatchedCount != 1 || noop.ModifiedCount != 0 {
		t.Fatalf("no-op update: %+v", noop)
	}

	var before, after bson.M
	mustOK(t, coll.FindOneAndUpdate(ctx, bson.D{{Key: "name", Value: "b"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}).Decode(&before))
	mustOK(t, coll.FindOneAndUpdate(ctx, bson.D{{Key: "name", Value: "b"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After).SetProjection(bson.D{{Key: "n", Value: 1}, {Key: "_id", Value: 0}})).Decode(&after))
	if before["n"] != int32(10) || after["n"] != int32(12) || len(after) != 1 {
		t.Fatalf("findOneAndUpdate before=%v after=%v", before, after)
	}
	var upserted bson.M
	mustOK(t, coll.FindOneAndUpdate(ctx, bson.D{{Key: "name", Value: "z"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 0}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&upserted))
	if upserted["name"] != "z" || upserted["_id"] == nil {
		t.Fatalf("findOneAndUpdate upsert: %v", upserted)
	}
	if err := coll.FindOneAndUpdate(ctx, bson.D{{Key: "name", Value: "nobody"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatalf("findOneAndUpdate without match: %v", err)
	}
	var removed bson.M
	mustOK(t, coll.FindOneAndDelete(ctx, bson.D{{Key: "name", Value: "z"}}).Decode(&removed))
	if removed["name"] != "z" {
		t.Fatalf("findOneAndDelete: %v", removed)
	}

	rep, err := coll.ReplaceOne(ctx, bson.D{{Key: "name", Value: "d"}}, bson.D{{Key: "name", Value: "d2"}})
	mustOK(t, err)
	if rep.ModifiedCount != 1 {
		t.Fatalf("replace: %+v", rep)
	}
	del, err := coll.DeleteOne(ctx, bson.D{{Key: "name", Value: "d2"}})
	mustOK(t, err)
	if del.DeletedCount != 1 {
		t.Fatalf("deleteOne: %+v", del)
	}
	del, err = coll.DeleteMany(ctx, bson.D{})
	mustOK(t, err)
	if del.DeletedCount != 3 {
		t.Fatalf("deleteMany: %+v", del)
	}
}

func TestInsertManyDuplicateKeyOrderedAndUnordered(t *testing.T) {
	ctx := crudCtx(t)
	db := startTestNode(t, Options{}).client(t).Database("test")
	docs := []any{bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 3}}}
	const msg = "E11000 duplicate key error collection: test.ordered index: _id_ dup key: { _id: 1 }"

	_, err := db.Collection("ordered").InsertMany(ctx, docs)
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || len(bwe.WriteErrors) != 1 {
		t.Fatalf("ordered: want one write error, got %v", err)
	}
	we := bwe.WriteErrors[0]
	if we.Index != 2 || we.Code != 11000 || we.Message != msg {
		t.Fatalf("ordered write error: %+v", we)
	}
	if kv := we.Details; kv != nil {
		t.Logf("details: %v", kv)
	}
	if n, _ := db.Collection("ordered").CountDocuments(ctx, bson.D{}); n != 2 {
		t.Fatalf("ordered batch stops at the error: %d docs", n)
	}

	_, err = db.Collection("unordered").InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if !errors.As(err, &bwe) || len(bwe.WriteErrors) != 1 || bwe.WriteErrors[0].Index != 2 {
		t.Fatalf("unordered: %v", err)
	}
	if n, _ := db.Collection("unordered").CountDocuments(ctx, bson.D{}); n != 3 {
		t.Fatalf("unordered batch goes on: %d docs", n)
	}

	// The raw reply carries keyPattern/keyValue like mongod.
	err = db.RunCommand(ctx, bson.D{{Key: "insert", Value: "ordered"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: 2}}}}}).Err()
	var wex mongo.WriteException
	if !errors.As(err, &wex) {
		t.Fatalf("raw insert of a duplicate: %v", err)
	}
	reply := wex.Raw
	werr := reply.Lookup("writeErrors", "0")
	if kp, ok := werr.Document().Lookup("keyPattern", "_id").AsInt64OK(); !ok || kp != 1 {
		t.Fatalf("keyPattern missing: %v", reply)
	}
	if reply.Lookup("n").Int32() != 0 {
		t.Fatalf("n: %v", reply)
	}
}

func TestWriteConcernOnStandalone(t *testing.T) {
	ctx := crudCtx(t)
	tn := startTestNode(t, Options{})
	c := tn.client(t)
	j := true
	journaled := c.Database("test").Collection("wc", options.Collection().SetWriteConcern(&writeconcern.WriteConcern{W: 1, Journal: &j}))
	_, err := journaled.InsertOne(ctx, bson.D{{Key: "x", Value: 1}})
	mustOK(t, err)

	w2 := c.Database("test").Collection("wc", options.Collection().SetWriteConcern(&writeconcern.WriteConcern{W: 2}))
	_, err = w2.InsertOne(ctx, bson.D{{Key: "x", Value: 2}})
	if serverCode(err) != 2 {
		t.Fatalf("w:2 on a standalone: want BadValue (2), got %v", err)
	}
	if n, _ := c.Database("test").Collection("wc").CountDocuments(ctx, bson.D{}); n != 1 {
		t.Fatalf("a refused write concern must not write: %d docs", n)
	}
}

func TestUnacknowledgedWriteIsApplied(t *testing.T) {
	ctx := crudCtx(t)
	c := startTestNode(t, Options{}).client(t)
	w0 := c.Database("test").Collection("w0", options.Collection().SetWriteConcern(writeconcern.Unacknowledged()))
	if _, err := w0.InsertOne(ctx, bson.D{{Key: "_id", Value: "fire-and-forget"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "w:0 insert visible", func() bool {
		n, err := c.Database("test").Collection("w0").CountDocuments(ctx, bson.D{{Key: "_id", Value: "fire-and-forget"}})
		return err == nil && n == 1
	})
}

func TestBadWriteInput(t *testing.T) {
	ctx := crudCtx(t)
	db := startTestNode(t, Options{}).client(t).Database("test")
	cases := []struct {
		name string
		cmd  bson.D
		code int
	}{
		{"insert non-string collection", bson.D{{Key: "insert", Value: 1}, {Key: "documents", Value: bson.A{bson.D{}}}}, 73},
		{"insert without documents", bson.D{{Key: "insert", Value: "c"}}, 40414},
		{"update without u", bson.D{{Key: "update", Value: "c"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: bson.D{}}}}}}, 40414},
		{"delete limit 5", bson.D{{Key: "delete", Value: "c"}, {Key: "deletes", Value: bson.A{bson.D{{Key: "q", Value: bson.D{}}, {Key: "limit", Value: 5}}}}}, 9},
		{"findAndModify without update", bson.D{{Key: "findAndModify", Value: "c"}, {Key: "query", Value: bson.D{}}}, 9},
	}
	for _, tc := range cases {
		if err := db.RunCommand(ctx, tc.cmd).Err(); serverCode(err) != tc.code {
			t.Errorf("%s: want code %d, got %v", tc.name, tc.code, err)
		}
	}
	// Statement-level problems are writeErrors, not command errors.
	_, err := db.Collection("c").UpdateOne(ctx, bson.D{{Key: "a", Value: bson.D{{Key: "$foo", Value: 1}}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}})
	var we mongo.WriteException
	if !errors.As(err, &we) || len(we.WriteErrors) != 1 || we.WriteErrors[0].Code != 2 || we.WriteErrors[0].Message != "unknown operator: $foo" {
		t.Fatalf("unknown operator in update: %v", err)
	}
}

func TestDataSurvivesRestart(t *testing.T) {
	ctx := crudCtx(t)
	dir := t.TempDir()
	first := startTestNode(t, Options{DBPath: dir})
	c := first.client(t)
	_, err := c.Database("keep").Collection("c").InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}}})
	mustOK(t, err)
	_, err = c.Database("keep").Collection("c").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "a", Value: 1}}})
	mustOK(t, err)
	_ = c.Disconnect(ctx)
	first.Stop(nil)

	second := startTestNode(t, Options{DBPath: dir})
	coll := second.client(t).Database("keep").Collection("c")
	if n, err := coll.CountDocuments(ctx, bson.D{}); err != nil || n != 2 {
		t.Fatalf("after restart: %d docs, %v", n, err)
	}
	specs, err := coll.Indexes().ListSpecifications(ctx)
	mustOK(t, err)
	if len(specs) != 2 || specs[1].Name != "a_1" {
		t.Fatalf("indexes after restart: %+v", specs)
	}
}
