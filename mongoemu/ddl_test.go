package mongoemu

import (
	"context"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rsguard/rsguard/mongoemu/storage"
)

func TestCreateDropListCollections(t *testing.T) {
	ctx := crudCtx(t)
	c := startTestNode(t, Options{}).client(t)
	db := c.Database("ddl")

	mustOK(t, db.CreateCollection(ctx, "explicit"))
	err := db.CreateCollection(ctx, "explicit")
	if serverCode(err) != 48 || !contains(err.Error(), "Collection already exists. NS: ddl.explicit") {
		t.Fatalf("create twice: %v", err)
	}
	mustOK(t, db.CreateCollection(ctx, "capped", options.CreateCollection().SetCapped(true).SetSizeInBytes(4096)))
	_, err = db.Collection("implicit").InsertOne(ctx, bson.D{{Key: "x", Value: 1}})
	mustOK(t, err)

	names, err := db.ListCollectionNames(ctx, bson.D{})
	mustOK(t, err)
	slices.Sort(names)
	if !slices.Equal(names, []string{"capped", "explicit", "implicit"}) {
		t.Fatalf("collections: %v", names)
	}
	specs, err := db.ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: "capped"}})
	mustOK(t, err)
	if len(specs) != 1 || specs[0].Type != "collection" || specs[0].UUID == nil || specs[0].IDIndex.Name != "_id_" {
		t.Fatalf("capped spec: %+v", specs)
	}
	if capped, _ := specs[0].Options.Lookup("capped").BooleanOK(); !capped {
		t.Fatalf("capped options: %v", specs[0].Options)
	}

	raw, err := db.RunCommand(ctx, bson.D{{Key: "drop", Value: "explicit"}}).Raw()
	mustOK(t, err)
	if raw.Lookup("ns").StringValue() != "ddl.explicit" || raw.Lookup("nIndexesWas").Int32() != 1 {
		t.Fatalf("drop reply: %v", raw)
	}
	err = db.RunCommand(ctx, bson.D{{Key: "drop", Value: "explicit"}}).Err()
	if serverCode(err) != 26 || !contains(err.Error(), "ns not found") {
		t.Fatalf("drop of a missing collection: %v", err)
	}
	mustOK(t, db.Collection("explicit").Drop(ctx)) // the driver ignores NamespaceNotFound

	dbs, err := c.ListDatabases(ctx, bson.D{})
	mustOK(t, err)
	var found bool
	for _, d := range dbs.Databases {
		if d.Name == "ddl" {
			found = d.SizeOnDisk > 0 && !d.Empty
		}
	}
	if !found || dbs.TotalSize <= 0 {
		t.Fatalf("listDatabases: %+v", dbs)
	}
	onlyDDL, err := c.ListDatabaseNames(ctx, bson.D{{Key: "name", Value: "ddl"}})
	mustOK(t, err)
	if !slices.Equal(onlyDDL, []string{"ddl"}) {
		t.Fatalf("listDatabases with filter: %v", onlyDDL)
	}

	raw, err = db.RunCommand(ctx, bson.D{{Key: "dropDatabase", Value: 1}}).Raw()
	mustOK(t, err)
	if raw.Lookup("dropped").StringValue() != "ddl" {
		t.Fatalf("dropDatabase reply: %v", raw)
	}
	names, err = db.ListCollectionNames(ctx, bson.D{})
	mustOK(t, err)
	if len(names) != 0 {
		t.Fatalf("after dropDatabase: %v", names)
	}
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "listDatabases", Value: 1}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "listDatabases", Value: 1}}).Err(); serverCode(err) != 13 {
		t.Fatalf("listDatabases outside admin: %v", err)
	}
}

func TestIndexesCreateListDrop(t *testing.T) {
	ctx := crudCtx(t)
	db := startTestNode(t, Options{}).client(t).Database("ix")
	coll := db.Collection("c")

	raw, err := db.RunCommand(ctx, bson.D{{Key: "createIndexes", Value: "c"}, {Key: "indexes", Value: bson.A{
		bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: 1}}}, {Key: "name", Value: "a_1"}},
	}}}).Raw()
	mustOK(t, err)
	if raw.Lookup("numIndexesBefore").Int32() != 1 || raw.Lookup("numIndexesAfter").Int32() != 2 ||
		!raw.Lookup("createdCollectionAutomatically").Boolean() {
		t.Fatalf("createIndexes reply: %v", raw)
	}
	name, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "b", Value: -1}, {Key: "c", Value: 1}},
		Options: options.Index().SetUnique(true)})
	mustOK(t, err)
	if name != "b_-1_c_1" {
		t.Fatalf("index name %q", name)
	}
	_, err = coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "a", Value: 1}}}) // already there
	mustOK(t, err)
	_, err = coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "z", Value: 1}}, Options: options.Index().SetName("a_1")})
	if serverCode(err) != 86 {
		t.Fatalf("same name, other key: %v", err)
	}

	specs, err := coll.Indexes().ListSpecifications(ctx)
	mustOK(t, err)
	if len(specs) != 3 || specs[0].Name != "_id_" || specs[2].Name != "b_-1_c_1" || specs[2].Unique == nil || !*specs[2].Unique {
		t.Fatalf("listIndexes: %+v", specs)
	}
	mustOK(t, coll.Indexes().DropOne(ctx, "a_1"))
	if err := coll.Indexes().DropOne(ctx, "_id_"); serverCode(err) != 72 {
		t.Fatalf("dropping _id_: %v", err)
	}
	if err := coll.Indexes().DropOne(ctx, "nope"); serverCode(err) != 27 {
		t.Fatalf("dropping a missing index: %v", err)
	}
	mustOK(t, coll.Indexes().DropAll(ctx))
	specs, err = coll.Indexes().ListSpecifications(ctx)
	mustOK(t, err)
	if len(specs) != 1 {
		t.Fatalf("after dropAll: %+v", specs)
	}
	// The driver hides NamespaceNotFound from ListSpecifications; the raw command shows it.
	if err := db.RunCommand(ctx, bson.D{{Key: "listIndexes", Value: "missing"}}).Err(); serverCode(err) != 26 ||
		!contains(err.Error(), "ns does not exist: ix.missing") {
		t.Fatalf("listIndexes on a missing collection: %v", err)
	}
}

func TestCollAndDBStats(t *testing.T) {
	ctx := crudCtx(t)
	db := startTestNode(t, Options{}).client(t).Database("st")
	seedNumbers(t, ctx, db.Collection("nums"), 10)
	var cs, ds bson.M
	mustOK(t, db.RunCommand(context.Background(), bson.D{{Key: "collStats", Value: "nums"}}).Decode(&cs))
	if cs["count"] != int32(10) || cs["nindexes"] != int32(1) || cs["size"].(int32) <= 0 {
		t.Fatalf("collStats: %v", cs)
	}
	mustOK(t, db.RunCommand(ctx, bson.D{{Key: "dbStats", Value: 1}}).Decode(&ds))
	if ds["collections"] != int32(1) || ds["objects"] != int64(10) {
		t.Fatalf("dbStats: %v", ds)
	}
}

func TestApplyCommandEntriesAsASecondaryWould(t *testing.T) {
	ctx := crudCtx(t)
	tn := startTestNode(t, Options{})
	ui := [16]byte{1, 2, 3, 4, 5, 6, 0x40, 8, 0x80, 10, 11, 12, 13, 14, 15, 16}
	entries := []bson.D{
		{{Key: "create", Value: "r"}, {Key: "idIndex", Value: idIndexSpec()}},
		{{Key: "createIndexes", Value: "r"}, {Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "k", Value: 1}}}, {Key: "name", Value: "k_1"}},
	}
	for round := 0; round < 2; round++ { // re-applying is a no-op
		for _, e := range entries {
			raw, err := bson.Marshal(e)
			mustOK(t, err)
			mustOK(t, tn.store.Update(func(tx *storage.Tx) error { return applyCommandEntry(tx, "repl", ui, raw) }))
		}
	}
	db := tn.client(t).Database("repl")
	specs, err := db.Collection("r").Indexes().ListSpecifications(ctx)
	mustOK(t, err)
	if len(specs) != 2 || specs[1].Name != "k_1" {
		t.Fatalf("replicated indexes: %+v", specs)
	}
	colls, err := db.ListCollectionSpecifications(ctx, bson.D{})
	mustOK(t, err)
	if len(colls) != 1 || colls[0].UUID == nil || colls[0].UUID.Data[0] != 1 {
		t.Fatalf("replicated create keeps the primary's UUID: %+v", colls)
	}
	drop, _ := bson.Marshal(bson.D{{Key: "drop", Value: "r"}})
	mustOK(t, tn.store.Update(func(tx *storage.Tx) error { return applyCommandEntry(tx, "repl", ui, drop) }))
	if names, _ := db.ListCollectionNames(ctx, bson.D{}); len(names) != 0 {
		t.Fatalf("after replicated drop: %v", names)
	}
}

func TestInsertPutsIDFirst(t *testing.T) {
	ctx := crudCtx(t)
	coll := startTestNode(t, Options{}).client(t).Database("test").Collection("order")
	_, err := coll.InsertOne(ctx, bson.D{{Key: "a", Value: 1}, {Key: "_id", Value: "x"}, {Key: "b", Value: 2}})
	mustOK(t, err)
	raw, err := coll.FindOne(ctx, bson.D{}).Raw()
	mustOK(t, err)
	elems, _ := raw.Elements()
	if len(elems) != 3 || elems[0].Key() != "_id" || elems[1].Key() != "a" || elems[2].Key() != "b" {
		t.Fatalf("stored document: %v", raw)
	}
}
