package storage

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	bolt "go.etcd.io/bbolt"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrNotFound is returned by Replace when no document has the given _id.
var ErrNotFound = errors.New("storage: document not found")

// coll returns ns's document bucket, NamespaceNotFound if ns was never created.
func (t *Tx) coll(ns string) (*bolt.Bucket, error) {
	if ns == OplogNS {
		return nil, mongoerr.New(mongoerr.IllegalOperation,
			"cannot write to %s as a collection; the oplog is written with AppendOplog", ns)
	}
	b := t.tx.Bucket(bktData).Bucket([]byte(ns))
	if b == nil {
		return nil, mongoerr.New(mongoerr.NamespaceNotFound, "ns does not exist: %s", ns)
	}
	return b, nil
}

// docKey is the storage key of doc's _id, refusing the _id types mongod refuses.
func docKey(doc bson.Raw) ([]byte, bson.RawValue, error) {
	id, err := doc.LookupErr("_id")
	if err != nil {
		return nil, id, mongoerr.New(mongoerr.InvalidIdField, "document has no _id field")
	}
	switch id.Type {
	case bson.TypeArray, bson.TypeRegex, bson.TypeUndefined:
		return nil, id, mongoerr.New(mongoerr.InvalidIdField,
			"The '_id' value cannot be of type %s", typeName(id.Type))
	}
	k, err := KeyOf(id)
	return k, id, err
}

func typeName(t bson.Type) string {
	switch t {
	case bson.TypeArray:
		return "array"
	case bson.TypeRegex:
		return "regex"
	case bson.TypeUndefined:
		return "undefined"
	}
	return t.String()
}

// Insert adds doc (which must carry its _id): NamespaceNotFound for an unknown ns (the caller
// creates collections), DuplicateKey if an equal _id is stored.
func (t *Tx) Insert(ns string, doc bson.Raw) error {
	b, err := t.coll(ns)
	if err != nil {
		return err
	}
	k, id, err := docKey(doc)
	if err != nil {
		return err
	}
	if b.Get(k) != nil {
		return duplicateKey(ns, id)
	}
	t.remember(ns, k, nil)
	if err := b.Put(k, clone(doc)); err != nil {
		return fmt.Errorf("insert into %s: %w", ns, err)
	}
	return t.addStats(ns, 1, int64(len(doc)))
}

// Get returns a copy of the document whose _id equals id.
func (t *Tx) Get(ns string, id bson.RawValue) (bson.Raw, bool, error) {
	b, err := t.coll(ns)
	if err != nil {
		return nil, false, err
	}
	k, err := KeyOf(id)
	if err != nil {
		return nil, false, err
	}
	v := b.Get(k)
	if t.at != nil {
		if before, ok := t.s.versions.valueAt(ns, k, t.at.TS); ok {
			v = before
		}
	}
	if v == nil {
		return nil, false, nil
	}
	return bson.Raw(clone(v)), true, nil
}

// Replace swaps the document whose _id equals id for doc, whose _id must be equal to id
// (ImmutableField otherwise); ErrNotFound if there is none.
func (t *Tx) Replace(ns string, id bson.RawValue, doc bson.Raw) error {
	b, err := t.coll(ns)
	if err != nil {
		return err
	}
	k, err := KeyOf(id)
	if err != nil {
		return err
	}
	nk, _, err := docKey(doc)
	if err != nil {
		return err
	}
	if !bytes.Equal(k, nk) {
		return mongoerr.New(mongoerr.ImmutableField,
			"After applying the update, the (immutable) field '_id' was found to have been altered to _id: %s",
			formatValue(doc.Lookup("_id")))
	}
	old := b.Get(k)
	if old == nil {
		return fmt.Errorf("replace in %s: %w", ns, ErrNotFound)
	}
	delta := int64(len(doc) - len(old))
	t.remember(ns, k, old)
	if err := b.Put(k, clone(doc)); err != nil {
		return fmt.Errorf("replace in %s: %w", ns, err)
	}
	return t.addStats(ns, 0, delta)
}

// Delete removes the document whose _id equals id; false if there was none.
func (t *Tx) Delete(ns string, id bson.RawValue) (bool, error) {
	b, err := t.coll(ns)
	if err != nil {
		return false, err
	}
	k, err := KeyOf(id)
	if err != nil {
		return false, err
	}
	old := b.Get(k)
	if old == nil {
		return false, nil
	}
	size := int64(len(old))
	t.remember(ns, k, old)
	if err := b.Delete(k); err != nil {
		return false, fmt.Errorf("delete from %s: %w", ns, err)
	}
	return true, t.addStats(ns, -1, -size)
}

// Scan calls fn with a copy of every document of ns in _id order (ts order for the oplog) until
// fn returns false or an error. An unknown ns is NamespaceNotFound. fn must not write to ns
// (a bbolt cursor does not survive changes to its bucket); collect ids and write afterwards.
func (t *Tx) Scan(ns string, fn func(doc bson.Raw) (more bool, err error)) error {
	var b *bolt.Bucket
	if ns == OplogNS {
		b = t.tx.Bucket(bktOplog)
	} else {
		var err error
		if b, err = t.coll(ns); err != nil {
			return err
		}
	}
	if t.at != nil && ns != OplogNS {
		return t.scanAt(b, ns, fn)
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		more, err := fn(bson.Raw(clone(v)))
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// scanAt is Scan at the Tx's snapshot: the stored documents merged, in _id order, with the
// values the overlay says they had then (present, changed or absent).
func (t *Tx) scanAt(b *bolt.Bucket, ns string, fn func(doc bson.Raw) (bool, error)) error {
	ov := t.s.versions.overlay(ns, t.at.TS)
	keys := ov.sortedKeys()
	emit := func(v []byte) (bool, error) {
		if v == nil {
			return true, nil
		}
		return fn(bson.Raw(clone(v)))
	}
	c := b.Cursor()
	k, v := c.First()
	for k != nil || len(keys) > 0 {
		var more bool
		var err error
		switch {
		case len(keys) > 0 && (k == nil || bytes.Compare(keys[0], k) < 0):
			more, err = emit(ov[string(keys[0])]) // absent now, present then
			keys = keys[1:]
		case len(keys) > 0 && bytes.Equal(keys[0], k):
			more, err = emit(ov[string(keys[0])])
			keys = keys[1:]
			k, v = c.Next()
		default:
			more, err = emit(v)
			k, v = c.Next()
		}
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// Count is the number of documents in ns (entries for the oplog).
func (t *Tx) Count(ns string) (int64, error) {
	if ns != OplogNS {
		if _, err := t.coll(ns); err != nil {
			return 0, err
		}
		if t.at != nil {
			var n int64
			err := t.Scan(ns, func(bson.Raw) (bool, error) { n++; return true, nil })
			return n, err
		}
	}
	return t.collCounters(ns).n, nil
}

// DataSize is the total BSON size of ns's documents (entries for the oplog).
func (t *Tx) DataSize(ns string) (int64, error) {
	if ns != OplogNS {
		if _, err := t.coll(ns); err != nil {
			return 0, err
		}
	}
	return t.collCounters(ns).bytes, nil
}

func (t *Tx) addStats(ns string, n, size int64) error {
	st := t.tx.Bucket(bktStats)
	c := getCounters(st, []byte(ns))
	c.n += n
	c.bytes += size
	return putCounters(st, []byte(ns), c)
}

// duplicateKey is mongod's E11000 for the _id index, with keyPattern and keyValue as in
// mongod's write error.
func duplicateKey(ns string, id bson.RawValue) *mongoerr.Error {
	return mongoerr.New(mongoerr.DuplicateKey,
		"E11000 duplicate key error collection: %s index: _id_ dup key: { _id: %s }", ns, formatValue(id)).
		With("keyPattern", bson.D{{Key: "_id", Value: int32(1)}}).
		With("keyValue", bson.D{{Key: "_id", Value: id}})
}
