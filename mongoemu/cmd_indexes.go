package mongoemu

import (
	"bytes"
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// Index codes mongoerr does not name yet.
const (
	codeIndexNotFound        mongoerr.Code = 27
	codeIndexOptionsConflict mongoerr.Code = 85
	codeIndexKeySpecsConflct mongoerr.Code = 86
)

// collMeta is what mongoemu keeps about a collection beside the storage catalog: its create
// options and the specs of its secondary indexes. Indexes are recorded (listIndexes shows them,
// they survive restarts and replicate as createIndexes entries) but never used or enforced:
// queries scan or use the _id lookup, and only the _id index is unique.
type collMeta struct {
	Options bson.Raw   `bson:"options,omitempty"`
	Indexes []bson.Raw `bson:"indexes,omitempty"`
}

func collMetaKey(ns string) string { return "mongoemu.collection." + ns }

func loadCollMeta(tx *storage.Tx, ns string) (collMeta, error) {
	var m collMeta
	raw, ok, err := tx.GetMeta(collMetaKey(ns))
	if err != nil || !ok {
		return m, err
	}
	if err := bson.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("decode metadata of %s: %w", ns, err)
	}
	return m, nil
}

func saveCollMeta(tx *storage.Tx, ns string, m collMeta) error {
	raw, err := bson.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode metadata of %s: %w", ns, err)
	}
	return tx.PutMeta(collMetaKey(ns), raw)
}

// indexSpec validates one createIndexes entry and normalises it to {v: 2, key, name, ...}.
func indexSpec(v bson.RawValue) (bson.Raw, string, bson.Raw, error) {
	d, ok := v.DocumentOK()
	if !ok {
		return nil, "", nil, wrongType("createIndexes.indexes", v, "object")
	}
	key, ok := d.Lookup("key").DocumentOK()
	if !ok || len(key) <= 5 {
		return nil, "", nil, mongoerr.New(mongoerr.FailedToParse,
			"Error in specification %s :: caused by :: The 'key' field is a required property of an index specification", d.String())
	}
	name, ok := d.Lookup("name").StringValueOK()
	if !ok || name == "" {
		return nil, "", nil, mongoerr.New(mongoerr.FailedToParse,
			"Error in specification %s :: caused by :: The 'name' field is a required property of an index specification", d.String())
	}
	out := bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: key}, {Key: "name", Value: name}}
	elems, _ := d.Elements()
	for _, e := range elems {
		switch e.Key() {
		case "v", "key", "name", "ns":
		default:
			out = append(out, bson.E{Key: e.Key(), Value: e.Value()})
		}
	}
	raw, err := bson.Marshal(out)
	return raw, name, key, err
}

// cmdCreateIndexes records index specs (creating the collection implicitly) and replies
// {numIndexesBefore, numIndexesAfter, createdCollectionAutomatically[, note]}.
func (n *Node) cmdCreateIndexes(ctx context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	vals, err := statements(r, "indexes")
	if err != nil {
		return nil, err
	}
	if err := n.precheckWriteConcern(r); err != nil {
		return nil, err
	}
	var before, after int
	var created bool
	res, err := n.runWrite(ctx, r, func(tx *storage.Tx, ol *opLog) error {
		w := newCollWriter(tx, ol, t)
		exists, err := w.lookup()
		if err != nil {
			return err
		}
		created = !exists
		if err := w.ensure(); err != nil {
			return err
		}
		meta, err := loadCollMeta(tx, t.ns)
		if err != nil {
			return err
		}
		before = 1 + len(meta.Indexes)
		for _, v := range vals {
			spec, name, key, err := indexSpec(v)
			if err != nil {
				return err
			}
			dup, err := existingIndex(meta, name, key)
			if err != nil || dup {
				return err
			}
			meta.Indexes = append(meta.Indexes, spec)
			if t.replicated() {
				entry := bson.D{{Key: "createIndexes", Value: t.coll}}
				elems, _ := spec.Elements()
				for _, e := range elems {
					entry = append(entry, bson.E{Key: e.Key(), Value: e.Value()})
				}
				ol.Command(t.db, &w.ui, entry)
			}
		}
		after = 1 + len(meta.Indexes)
		return saveCollMeta(tx, t.ns, meta)
	})
	if err != nil {
		return nil, err
	}
	fields := bson.D{{Key: "numIndexesBefore", Value: int32(before)}, {Key: "numIndexesAfter", Value: int32(after)},
		{Key: "createdCollectionAutomatically", Value: created}}
	if before == after {
		fields = append(fields, bson.E{Key: "note", Value: "all indexes already exist"})
	}
	return n.finishWrite(ctx, r, res, fields)
}

// existingIndex reports whether an identical index exists, or errors on a conflicting one.
func existingIndex(meta collMeta, name string, key bson.Raw) (bool, error) {
	all := append([]bson.Raw{mustMarshal(idIndexSpec())}, meta.Indexes...)
	for _, ix := range all {
		ixName, _ := ix.Lookup("name").StringValueOK()
		ixKey, _ := ix.Lookup("key").DocumentOK()
		sameKey := bytes.Equal(ixKey, key)
		switch {
		case ixName == name && sameKey:
			return true, nil
		case ixName == name:
			return false, mongoerr.New(codeIndexKeySpecsConflct,
				"An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: %s, existing index: %s",
				key.String(), ix.String())
		case sameKey:
			return false, mongoerr.New(codeIndexOptionsConflict, "Index already exists with a different name: %s", ixName)
		}
	}
	return false, nil
}

func mustMarshal(d bson.D) bson.Raw {
	raw, err := bson.Marshal(d)
	if err != nil {
		panic(err) // only called on constant documents
	}
	return raw
}

// cmdDropIndexes drops by name, key pattern, list of names or "*" and replies {nIndexesWas}.
func (n *Node) cmdDropIndexes(ctx context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	iv, ok := r.arg("index")
	if !ok {
		return nil, missingField(r.name, "index")
	}
	if err := n.precheckWriteConcern(r); err != nil {
		return nil, err
	}
	var was int
	res, err := n.runWrite(ctx, r, func(tx *storage.Tx, ol *opLog) error {
		w := newCollWriter(tx, ol, t)
		if ok, err := w.lookup(); err != nil || !ok {
			if err == nil {
				err = mongoerr.New(mongoerr.NamespaceNotFound, "ns not found %s", t.ns)
			}
			return err
		}
		meta, err := loadCollMeta(tx, t.ns)
		if err != nil {
			return err
		}
		was = 1 + len(meta.Indexes)
		drop, err := indexesToDrop(meta, iv)
		if err != nil {
			return err
		}
		kept := meta.Indexes[:0:0]
		for _, ix := range meta.Indexes {
			name, _ := ix.Lookup("name").StringValueOK()
			if !drop[name] {
				kept = append(kept, ix)
				continue
			}
			if t.replicated() {
				ol.Command(t.db, &w.ui, bson.D{{Key: "dropIndexes", Value: t.coll}, {Key: "index", Value: name}})
			}
		}
		meta.Indexes = kept
		return saveCollMeta(tx, t.ns, meta)
	})
	if err != nil {
		return nil, err
	}
	return n.finishWrite(ctx, r, res, bson.D{{Key: "nIndexesWas", Value: int32(was)}})
}

func indexesToDrop(meta collMeta, iv bson.RawValue) (map[string]bool, error) {
	drop := map[string]bool{}
	byName := func(name string) error {
		if name == "_id_" {
			return mongoerr.New(mongoerr.InvalidOptions, "cannot drop _id index")
		}
		for _, ix := range meta.Indexes {
			if s, _ := ix.Lookup("name").StringValueOK(); s == name {
				drop[name] = true
				return nil
			}
		}
		return mongoerr.New(codeIndexNotFound, "index not found with name [%s]", name)
	}
	if s, ok := iv.StringValueOK(); ok {
		if s == "*" {
			for _, ix := range meta.Indexes {
				name, _ := ix.Lookup("name").StringValueOK()
				drop[name] = true
			}
			return drop, nil
		}
		return drop, byName(s)
	}
	if arr, ok := iv.ArrayOK(); ok {
		vals, _ := arr.Values()
		for _, v := range vals {
			s, ok := v.StringValueOK()
			if !ok {
				return nil, wrongType("dropIndexes.index", v, "string")
			}
			if err := byName(s); err != nil {
				return nil, err
			}
		}
		return drop, nil
	}
	key, ok := iv.DocumentOK()
	if !ok {
		return nil, wrongType("dropIndexes.index", iv, "[string, object]")
	}
	if bytes.Equal(key, mustMarshal(bson.D{{Key: "_id", Value: int32(1)}})) {
		return nil, mongoerr.New(mongoerr.InvalidOptions, "cannot drop _id index")
	}
	for _, ix := range meta.Indexes {
		if k, _ := ix.Lookup("key").DocumentOK(); bytes.Equal(k, key) {
			name, _ := ix.Lookup("name").StringValueOK()
			drop[name] = true
			return drop, nil
		}
	}
	return nil, mongoerr.New(codeIndexNotFound, "can't find index with key: %s", key.String())
}

// cmdListIndexes answers a cursor (ns "db.$cmd.listIndexes.coll") of the _id index and the
// recorded ones; NamespaceNotFound for a missing collection.
func (n *Node) cmdListIndexes(ctx context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	var docs []bson.Raw
	err = n.runRead(func(tx *storage.Tx) error {
		_, ok, err := tx.CollectionUUID(t.ns)
		if err != nil {
			return err
		}
		if !ok {
			return mongoerr.New(mongoerr.NamespaceNotFound, "ns does not exist: %s", t.ns)
		}
		meta, err := loadCollMeta(tx, t.ns)
		if t.ns != storage.OplogNS {
			docs = append(docs, mustMarshal(idIndexSpec()))
		}
		docs = append(docs, meta.Indexes...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return n.catalogCursor(ctx, r, t.db+".$cmd.listIndexes."+t.coll, docs)
}
