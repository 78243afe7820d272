package storage

import (
	"errors"
	"testing"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func wantCode(t *testing.T, err error, code mongoerr.Code) *mongoerr.Error {
	t.Helper()
	var me *mongoerr.Error
	if !errors.As(err, &me) || me.Code != code {
		t.Fatalf("err = %v, want code %d", err, code)
	}
	return me
}

func TestDuplicateKey(t *testing.T) {
	s := openTest(t, Options{})
	mustUpdate(t, s, func(tx *Tx) error { return tx.CreateCollection("db.coll", CollOptions{}) })
	for _, tc := range []struct {
		stored, inserted any
		msg              string
	}{
		{int32(1), int32(1), "E11000 duplicate key error collection: db.coll index: _id_ dup key: { _id: 1 }"},
		{int32(2), int64(2), "E11000 duplicate key error collection: db.coll index: _id_ dup key: { _id: 2 }"},
		{int64(3), 3.0, "E11000 duplicate key error collection: db.coll index: _id_ dup key: { _id: 3.0 }"},
		{"x", "x", `E11000 duplicate key error collection: db.coll index: _id_ dup key: { _id: "x" }`},
		{bson.D{{Key: "a", Value: int32(1)}}, bson.D{{Key: "a", Value: 1.0}},
			"E11000 duplicate key error collection: db.coll index: _id_ dup key: { _id: { a: 1.0 } }"},
	} {
		mustUpdate(t, s, func(tx *Tx) error {
			return tx.Insert("db.coll", mustRaw(t, bson.D{{Key: "_id", Value: tc.stored}}))
		})
		err := s.Update(func(tx *Tx) error {
			return tx.Insert("db.coll", mustRaw(t, bson.D{{Key: "_id", Value: tc.inserted}, {Key: "n", Value: 1}}))
		})
		if me := wantCode(t, err, mongoerr.DuplicateKey); me.Msg != tc.msg {
			t.Errorf("msg = %q\nwant  %q", me.Msg, tc.msg)
		}
	}
	oid := bson.NewObjectID()
	mustUpdate(t, s, func(tx *Tx) error { return tx.Insert("db.coll", mustRaw(t, bson.D{{Key: "_id", Value: oid}})) })
	err := s.Update(func(tx *Tx) error { return tx.Insert("db.coll", mustRaw(t, bson.D{{Key: "_id", Value: oid}})) })
	want := "E11000 duplicate key error collection: db.coll index: _id_ dup key: { _id: ObjectId('" + oid.Hex() + "') }"
	if me := wantCode(t, err, mongoerr.DuplicateKey); me.Msg != want {
		t.Errorf("msg = %q, want %q", me.Msg, want)
	}
}

func TestDocumentCRUD(t *testing.T) {
	s := openTest(t, Options{})
	err := s.Update(func(tx *Tx) error { return tx.Insert("db.c", mustRaw(t, bson.D{{Key: "_id", Value: 1}})) })
	wantCode(t, err, mongoerr.NamespaceNotFound)

	mustUpdate(t, s, func(tx *Tx) error {
		if err := tx.CreateCollection("db.c", CollOptions{}); err != nil {
			return err
		}
		for _, id := range []any{int32(3), "s", int32(1), 2.5, bson.NewObjectID()} {
			if err := tx.Insert("db.c", mustRaw(t, bson.D{{Key: "_id", Value: id}, {Key: "x", Value: "v"}})); err != nil {
				return err
			}
		}
		return nil
	})
	wantCode(t, s.Update(func(tx *Tx) error { return tx.CreateCollection("db.c", CollOptions{}) }), mongoerr.NamespaceExists)
	wantCode(t, s.Update(func(tx *Tx) error {
		return tx.Insert("db.c", mustRaw(t, bson.D{{Key: "_id", Value: bson.A{1}}}))
	}), mongoerr.InvalidIdField)

	var got bson.Raw
	err = s.View(func(tx *Tx) error {
		var ok bool
		var err error
		got, ok, err = tx.Get("db.c", val(t, int64(1)))
		if !ok {
			t.Error("Get(int64 1) not found")
		}
		return err
	})
	if err != nil || got.Lookup("x").StringValue() != "v" {
		t.Fatalf("Get: %v %v", got, err)
	}
	mustUpdate(t, s, func(tx *Tx) error {
		return tx.Replace("db.c", val(t, 1.0), mustRaw(t, bson.D{{Key: "_id", Value: int32(1)}, {Key: "x", Value: "w"}}))
	})
	wantCode(t, s.Update(func(tx *Tx) error {
		return tx.Replace("db.c", val(t, int32(1)), mustRaw(t, bson.D{{Key: "_id", Value: int32(9)}}))
	}), mongoerr.ImmutableField)
	if err := s.Update(func(tx *Tx) error {
		return tx.Replace("db.c", val(t, int32(7)), mustRaw(t, bson.D{{Key: "_id", Value: int32(7)}}))
	}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Replace missing: %v", err)
	}
	mustUpdate(t, s, func(tx *Tx) error {
		ok, err := tx.Delete("db.c", val(t, "s"))
		if !ok {
			t.Error("Delete existing: false")
		}
		if ok, _ := tx.Delete("db.c", val(t, "s")); ok {
			t.Error("Delete again: true")
		}
		return err
	})
	var order []string
	mustUpdate(t, s, func(tx *Tx) error {
		return tx.Scan("db.c", func(d bson.Raw) (bool, error) {
			f := formatValue(d.Lookup("_id"))
			order = append(order, f[:min(3, len(f))])
			return true, nil
		})
	})
	if len(order) != 4 || order[0] != "1" || order[1] != "2.5" || order[2] != "3" || order[3] != "Obj" {
		t.Errorf("scan order %q", order)
	}
	_ = s.View(func(tx *Tx) error {
		n, err := tx.Count("db.c")
		if n != 4 || err != nil {
			t.Errorf("Count = %d, %v", n, err)
		}
		return nil
	})
	_ = got.Lookup("x") // still readable after the tx
}

func TestNamespaces(t *testing.T) {
	s := openTest(t, Options{})
	uuid := [16]byte{1, 2, 3}
	mustUpdate(t, s, func(tx *Tx) error {
		for _, ns := range []string{"b.x", "a.y", "a.x", "ab.z"} {
			if err := tx.CreateCollection(ns, CollOptions{UUID: uuid}); err != nil {
				return err
			}
		}
		if err := tx.CreateCollection("c.capped", CollOptions{Capped: true}); err != nil {
			return err
		}
		return tx.Insert("a.x", mustRaw(t, bson.D{{Key: "_id", Value: 1}}))
	})
	wantCode(t, s.Update(func(tx *Tx) error { return tx.CreateCollection("nodot", CollOptions{}) }), mongoerr.InvalidNamespace)
	_ = s.View(func(tx *Tx) error {
		dbs, _ := tx.ListDatabases()
		if len(dbs) != 4 || dbs[0].Name != "a" || dbs[0].Empty || !dbs[1].Empty || dbs[1].Name != "ab" {
			t.Errorf("ListDatabases = %+v", dbs)
		}
		cs, _ := tx.ListCollections("a")
		if len(cs) != 2 || cs[0].Name != "x" || cs[1].Name != "y" || cs[0].UUID != uuid {
			t.Errorf("ListCollections(a) = %+v", cs)
		}
		cs, _ = tx.ListCollections("c")
		if len(cs) != 1 || !cs[0].Options.Capped || cs[0].UUID == ([16]byte{}) {
			t.Errorf("ListCollections(c) = %+v", cs)
		}
		return nil
	})
	mustUpdate(t, s, func(tx *Tx) error {
		if ok, err := tx.DropCollection("b.x"); !ok || err != nil {
			t.Errorf("DropCollection = %v, %v", ok, err)
		}
		if ok, _ := tx.DropCollection("b.x"); ok {
			t.Error("second DropCollection = true")
		}
		return tx.DropDatabase("a")
	})
	_ = s.View(func(tx *Tx) error {
		dbs, _ := tx.ListDatabases()
		if len(dbs) != 2 || dbs[0].Name != "ab" || dbs[1].Name != "c" {
			t.Errorf("after drops ListDatabases = %+v", dbs)
		}
		if _, ok, _ := tx.CollectionUUID("a.x"); ok {
			t.Error("a.x still has a UUID")
		}
		_, err := tx.Count("a.x")
		wantCode(t, err, mongoerr.NamespaceNotFound)
		return nil
	})
	// Recreated collections start empty.
	mustUpdate(t, s, func(tx *Tx) error { return tx.CreateCollection("a.x", CollOptions{}) })
	_ = s.View(func(tx *Tx) error {
		if n, _ := tx.Count("a.x"); n != 0 {
			t.Errorf("recreated count %d", n)
		}
		return nil
	})
}

func TestAtomicUpdate(t *testing.T) {
	s := openTest(t, Options{})
	mustUpdate(t, s, func(tx *Tx) error { return tx.CreateCollection("db.c", CollOptions{}) })
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		if err := tx.Insert("db.c", mustRaw(t, bson.D{{Key: "_id", Value: 1}})); err != nil {
			return err
		}
		if err := tx.AppendOplog(oplogEntry(t, bson.Timestamp{T: 1, I: 1}, 0)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	_ = s.View(func(tx *Tx) error {
		n, _ := tx.Count("db.c")
		entries, _ := tx.OplogStats()
		if n != 0 || entries != 0 {
			t.Errorf("rolled-back tx left %d docs, %d oplog entries", n, entries)
		}
		return nil
	})
}
