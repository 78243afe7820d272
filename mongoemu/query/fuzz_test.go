package query

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzMatcher feeds arbitrary bytes as filters, updates, projections and
// sorts: parsing may fail but must never panic, and whatever compiles must
// run on a fixed set of documents without panicking.
func FuzzMatcher(f *testing.F) {
	seeds := []string{
		`{"a": 1}`, `{"a": {"$gt": 1, "$lt": [1]}}`, `{"$or": [{"a.b": null}, {"c": {"$elemMatch": {"d": 1}}}]}`,
		`{"a": {"$in": [1, {"$regularExpression": {"pattern": "x", "options": "i"}}]}}`,
		`{"a": {"$not": {"$size": 2}}, "b": {"$all": [1, 2]}, "c": {"$mod": [3, 1]}, "d": {"$type": "number"}}`,
		`{"$set": {"a.b.3": 1}, "$inc": {"n": 1}}`, `{"$push": {"a": {"$each": [1], "$sort": 1, "$slice": 1}}}`,
	}
	for _, s := range seeds {
		var r bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(s), false, &r); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(r))
	}
	var docs []bson.Raw
	for _, s := range []string{`{"_id": 1, "a": [1, {"b": null}, [2]], "c": [{"d": 1}], "n": 2147483647}`, `{}`, `{"a": {"b": {"c": "x"}}, "d": 1.5}`} {
		var r bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(s), false, &r); err != nil {
			f.Fatal(err)
		}
		docs = append(docs, r)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		raw := bson.Raw(b)
		if m, err := NewMatcher(raw); err == nil {
			for _, d := range docs {
				m.Match(d)
				m.Match(raw) // the filter itself as a (possibly odd) document
			}
			m.IDEquality()
		}
		if u, err := ParseUpdate(raw); err == nil {
			for _, d := range docs {
				if out, _, err := u.Apply(d, time.Unix(0, 0)); err == nil {
					if verr := out.Validate(); verr != nil {
						t.Fatalf("Apply produced invalid BSON: %v", verr)
					}
				}
			}
			_, _ = u.UpsertDoc(docs[0], time.Unix(0, 0))
		}
		if p, err := NewProjection(raw); err == nil {
			for _, d := range docs {
				p.Apply(d)
			}
		}
		if s, err := NewSort(raw); err == nil {
			s.Compare(docs[0], docs[2])
		}
		_ = Lookup(raw, "a.b.0")
		for _, d := range docs {
			v := bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: b}
			Compare(v, bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: d})
			EqualityKey(v)
		}
	})
}
