package query

import (
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// Sort is a compiled sort specification. It is immutable.
type Sort struct {
	keys []sortKey
}

type sortKey struct {
	parts []string
	desc  bool
}

// NewSort compiles {a: 1, "b.c": -1}. Each value must be 1 or -1 (any
// numeric type); {$meta: ...} is not supported. An empty spec keeps the
// input order.
func NewSort(spec bson.Raw) (*Sort, error) {
	s := &Sort{}
	it := iterDoc(spec)
	for {
		k, v, _, ok := it.next()
		if !ok {
			return s, nil
		}
		if len(k) == 0 {
			return nil, mongoerr.New(mongoerr.BadValue, "FieldPath cannot be constructed with empty string")
		}
		if v.Type == bson.TypeEmbeddedDocument {
			return nil, mongoerr.New(mongoerr.BadValue, "$meta sort keys are not supported by mongoemu")
		}
		f, isNum := numberAsFloat(v)
		if !isNum || (f != 1 && f != -1) {
			return nil, mongoerr.New(mongoerr.BadValue, "$sort key ordering must be 1 (for ascending) or -1 (for descending)")
		}
		s.keys = append(s.keys, sortKey{parts: splitPath(string(k)), desc: f == -1})
	}
}

// Compare orders two documents by the sort keys. A missing field sorts as
// null; an array sorts by its smallest element ascending and its largest
// descending (an empty array sorts before null), as mongod does.
func (s *Sort) Compare(a, b bson.Raw) int {
	for _, k := range s.keys {
		if c := k.compare(k.value(a), k.value(b)); c != 0 {
			return c
		}
	}
	return 0
}

func (k sortKey) compare(x, y bson.RawValue) int {
	c := Compare(x, y)
	if k.desc {
		return -c
	}
	return c
}

// value extracts the key's sort value from doc.
func (k sortKey) value(doc []byte) bson.RawValue {
	var buf [4]bson.RawValue
	vals := walkDoc(doc, k.parts, buf[:0])
	best, have := missing, false
	consider := func(v bson.RawValue) {
		if v.Type == 0 {
			v = nullVal()
		}
		if !have {
			best, have = v, true
			return
		}
		c := Compare(v, best)
		if (k.desc && c > 0) || (!k.desc && c < 0) {
			best = v
		}
	}
	for _, v := range vals {
		if v.Type != bson.TypeArray {
			consider(v)
			continue
		}
		it := iterDoc(v.Value)
		n := 0
		for ; ; n++ {
			_, e, _, ok := it.next()
			if !ok {
				break
			}
			consider(e)
		}
		if n == 0 {
			consider(bson.RawValue{Type: bson.TypeUndefined})
		}
	}
	if !have {
		return nullVal()
	}
	return best
}

// compareValues orders array elements for $push's {$sort: {field: 1}}:
// non-document elements have no fields, so every key is null for them.
func (s *Sort) compareValues(a, b bson.RawValue) int {
	da, db := emptyDoc(), emptyDoc()
	if a.Type == bson.TypeEmbeddedDocument {
		da = a.Value
	}
	if b.Type == bson.TypeEmbeddedDocument {
		db = b.Value
	}
	return s.Compare(da, db)
}

// SortDocs sorts docs in place (stable), computing each document's keys once.
func (s *Sort) SortDocs(docs []bson.Raw) {
	if len(s.keys) == 0 || len(docs) < 2 {
		return
	}
	type keyed struct {
		doc  bson.Raw
		vals []bson.RawValue
	}
	ks := make([]keyed, len(docs))
	for i, d := range docs {
		ks[i] = keyed{doc: d, vals: make([]bson.RawValue, len(s.keys))}
		for j, k := range s.keys {
			ks[i].vals[j] = k.value(d)
		}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		for j, k := range s.keys {
			if c := k.compare(a.vals[j], b.vals[j]); c != 0 {
				return c
			}
		}
		return 0
	})
	for i := range ks {
		docs[i] = ks[i].doc
	}
}
