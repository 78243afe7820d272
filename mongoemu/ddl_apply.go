package mongoemu

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// applyCommandEntry applies the "o" of a replicated {op: "c", ns: "<db>.$cmd", ui} entry that
// the data commands write (spec §7.1): create, drop, dropDatabase, createIndexes, dropIndexes.
// It is what a secondary's applier, initial sync or rollback recovery calls; it keeps the
// primary's collection UUID and the catalog metadata layout of cmd_indexes.go, and is
// idempotent (re-applying an entry is a no-op), as oplog application must be.
func applyCommandEntry(tx *storage.Tx, db string, ui [16]byte, o bson.Raw) error {
	first, err := o.IndexErr(0)
	if err != nil {
		return mongoerr.New(mongoerr.BadValue, "empty command entry")
	}
	coll, _ := first.Value().StringValueOK()
	ns := db + "." + coll
	switch first.Key() {
	case "create":
		if _, ok, err := tx.CollectionUUID(ns); err != nil || ok {
			return err
		}
		opts := bson.D{}
		elems, _ := o.Elements()
		for _, e := range elems[1:] {
			if e.Key() != "idIndex" {
				opts = append(opts, bson.E{Key: e.Key(), Value: e.Value()})
			}
		}
		capped, _ := o.Lookup("capped").BooleanOK()
		if err := tx.CreateCollection(ns, storage.CollOptions{Capped: capped, UUID: ui}); err != nil {
			return err
		}
		if len(opts) == 0 {
			return nil
		}
		raw, err := bson.Marshal(opts)
		if err != nil {
			return err
		}
		return saveCollMeta(tx, ns, collMeta{Options: raw})
	case "drop":
		if _, err := tx.DropCollection(ns); err != nil {
			return err
		}
		return tx.DeleteMeta(collMetaKey(ns))
	case "dropDatabase":
		colls, err := tx.ListCollections(db)
		if err != nil {
			return err
		}
		for _, c := range colls {
			if _, err := tx.DropCollection(db + "." + c.Name); err != nil {
				return err
			}
			if err := tx.DeleteMeta(collMetaKey(db + "." + c.Name)); err != nil {
				return err
			}
		}
		return nil
	case "createIndexes":
		return applyIndexEntry(tx, ns, o, true)
	case "dropIndexes", "deleteIndexes":
		return applyIndexEntry(tx, ns, o, false)
	}
	return mongoerr.New(mongoerr.BadValue, "mongoemu cannot apply command entry %s", first.Key())
}

func applyIndexEntry(tx *storage.Tx, ns string, o bson.Raw, create bool) error {
	meta, err := loadCollMeta(tx, ns)
	if err != nil {
		return err
	}
	field := "name"
	if !create {
		field = "index"
	}
	name, _ := o.Lookup(field).StringValueOK()
	kept := meta.Indexes[:0:0]
	for _, ix := range meta.Indexes {
		if n, _ := ix.Lookup("name").StringValueOK(); n != name {
			kept = append(kept, ix)
		}
	}
	if create {
		spec := bson.D{}
		elems, _ := o.Elements()
		for _, e := range elems[1:] {
			spec = append(spec, bson.E{Key: e.Key(), Value: e.Value()})
		}
		raw, err := bson.Marshal(spec)
		if err != nil {
			return err
		}
		kept = append(kept, raw)
	}
	meta.Indexes = kept
	return saveCollMeta(tx, ns, meta)
}
