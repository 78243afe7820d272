package query

import (
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

func TestSort(t *testing.T) {
	docs := []string{
		`{"_id": 1, "a": 3}`,
		`{"_id": 2, "a": [1, 9]}`,
		`{"_id": 3}`,
		`{"_id": 4, "a": null}`,
		`{"_id": 5, "a": "s"}`,
		`{"_id": 6, "a": 2.5, "b": {"c": 1}}`,
		`{"_id": 7, "a": 2.5, "b": {"c": 2}}`,
		`{"_id": 8, "a": []}`,
	}
	cases := []struct {
		spec string
		want []int32
	}{
		{`{"a": 1}`, []int32{8, 3, 4, 2, 6, 7, 1, 5}},
		{`{"a": -1}`, []int32{5, 2, 1, 6, 7, 3, 4, 8}},
		{`{"a": 1, "b.c": -1}`, []int32{8, 3, 4, 2, 7, 6, 1, 5}},
		{`{"_id": -1}`, []int32{8, 7, 6, 5, 4, 3, 2, 1}},
		{`{}`, []int32{1, 2, 3, 4, 5, 6, 7, 8}},
	}
	for _, c := range cases {
		s, err := NewSort(D(t, c.spec))
		if err != nil {
			t.Fatal(err)
		}
		raws := make([]bson.Raw, len(docs))
		for i, d := range docs {
			raws[i] = D(t, d)
		}
		sorted := slices.Clone(raws)
		s.SortDocs(sorted)
		viaCompare := slices.Clone(raws)
		slices.SortStableFunc(viaCompare, s.Compare)
		for _, got := range [][]bson.Raw{sorted, viaCompare} {
			var ids []int32
			for _, d := range got {
				ids = append(ids, d.Lookup("_id").Int32())
			}
			if !slices.Equal(ids, c.want) {
				t.Errorf("sort %s = %v, want %v", c.spec, ids, c.want)
			}
		}
	}
}

func TestSortErrors(t *testing.T) {
	for _, spec := range []string{`{"a": 2}`, `{"a": "x"}`, `{"a": 0}`, `{"a": {"$meta": "textScore"}}`} {
		_, err := NewSort(D(t, spec))
		wantCode(t, err, mongoerr.BadValue, spec)
	}
	if _, err := NewSort(D(t, `{"a": -1.0, "b": {"$numberLong": "1"}}`)); err != nil {
		t.Fatal(err)
	}
}
