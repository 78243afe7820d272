package query

import (
	"testing"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		filter, doc string
		want        bool
	}{
		// implicit equality, cross-type numbers, missing vs null
		{`{}`, `{"a": 1}`, true},
		{`{"a": 1}`, `{"a": 1}`, true},
		{`{"a": 1}`, `{"a": {"$numberLong": "1"}}`, true},
		{`{"a": 1}`, `{"a": 1.0}`, true},
		{`{"a": 1.0}`, `{"a": {"$numberDecimal": "1"}}`, true},
		{`{"a": 1}`, `{"a": "1"}`, false},
		{`{"a": 1}`, `{"b": 1}`, false},
		{`{"a": null}`, `{"b": 1}`, true},
		{`{"a": null}`, `{"a": null}`, true},
		{`{"a": null}`, `{"a": {"$undefined": true}}`, true},
		{`{"a": null}`, `{"a": 0}`, false},
		{`{"a": null}`, `{"a": [1, null]}`, true},
		{`{"a": null}`, `{"a": []}`, false},
		{`{"a.b": null}`, `{"a": [{"b": 1}, {"c": 1}]}`, true},
		{`{"a.b": null}`, `{"a": 5}`, true},
		// whole documents and arrays
		{`{"a": {"b": 1, "c": 2}}`, `{"a": {"b": 1, "c": 2}}`, true},
		{`{"a": {"b": 1, "c": 2}}`, `{"a": {"c": 2, "b": 1}}`, false},
		{`{"a": {"b": 1}}`, `{"a": {"b": 1, "c": 2}}`, false},
		{`{"a": {"b": 1}}`, `{"a": [{"b": 1}]}`, true},
		{`{"a": [1, 2]}`, `{"a": [1, 2]}`, true},
		{`{"a": [1, 2]}`, `{"a": [2, 1]}`, false},
		{`{"a": [1, 2]}`, `{"a": [[1, 2], 3]}`, true},
		{`{"a": 1}`, `{"a": [3, 1]}`, true},
		{`{"a": 1}`, `{"a": [[1]]}`, false},
		// dotted paths
		{`{"a.b": 1}`, `{"a": {"b": 1}}`, true},
		{`{"a.b": 1}`, `{"a": [{"b": 2}, {"b": 1}]}`, true},
		{`{"a.b": 1}`, `{"a": [{"b": [0, 1]}]}`, true},
		{`{"a.b": 1}`, `{"a": [[{"b": 1}]]}`, false},
		{`{"a.1": 5}`, `{"a": [4, 5]}`, true},
		{`{"a.0.b": 1}`, `{"a": [{"b": 1}]}`, true},
		{`{"a.0": 7}`, `{"a": [{"0": 7}]}`, true},
		{`{"a.b.c": 1}`, `{"a": {"b": {"c": 1}}}`, true},
		{`{"a.b": {"$exists": false}}`, `{"a": [{"b": 1}, {"c": 1}]}`, false},
		// $eq $ne
		{`{"a": {"$eq": 1}}`, `{"a": [1]}`, true},
		{`{"a": {"$eq": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, `{"a": "x"}`, false},
		{`{"a": {"$ne": 1}}`, `{"a": 2}`, true},
		{`{"a": {"$ne": 1}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$ne": 1}}`, `{}`, true},
		{`{"a": {"$ne": null}}`, `{}`, false},
		{`{"a": {"$ne": null}}`, `{"a": 0}`, true},
		// comparisons with type bracketing
		{`{"a": {"$gt": 1}}`, `{"a": 2}`, true},
		{`{"a": {"$gt": 1}}`, `{"a": 1.5}`, true},
		{`{"a": {"$gt": 1}}`, `{"a": "2"}`, false},
		{`{"a": {"$gt": 1}}`, `{"a": [0, 5]}`, true},
		{`{"a": {"$gt": 1, "$lt": 3}}`, `{"a": [0, 5]}`, true}, // each operator may pick its own element
		{`{"a": {"$gte": 2}}`, `{"a": {"$numberLong": "2"}}`, true},
		{`{"a": {"$lt": "b"}}`, `{"a": "a"}`, true},
		{`{"a": {"$lt": "b"}}`, `{"a": 1}`, false},
		{`{"a": {"$lte": null}}`, `{}`, true},
		{`{"a": {"$gt": null}}`, `{}`, false},
		{`{"a": {"$gt": {"$minKey": 1}}}`, `{"a": "x"}`, true},
		{`{"a": {"$lt": {"$maxKey": 1}}}`, `{"a": {"b": 1}}`, true},
		{`{"a": {"$gt": {"$numberDouble": "NaN"}}}`, `{"a": 1}`, false},
		{`{"a": {"$gte": {"$numberDouble": "NaN"}}}`, `{"a": {"$numberDouble": "NaN"}}`, true},
		{`{"a": {"$lt": {"$date": "2020-01-01T00:00:00Z"}}}`, `{"a": {"$date": "2019-01-01T00:00:00Z"}}`, true},
		{`{"a": {"$gt": [1]}}`, `{"a": [2]}`, true},
		// $in $nin
		{`{"a": {"$in": [1, 2]}}`, `{"a": 2.0}`, true},
		{`{"a": {"$in": [1, 2]}}`, `{"a": [5, 1]}`, true},
		{`{"a": {"$in": [null]}}`, `{}`, true},
		{`{"a": {"$in": []}}`, `{"a": 1}`, false},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "^x", "options": ""}}]}}`, `{"a": "xy"}`, true},
		{`{"a": {"$nin": [1, 2]}}`, `{"a": 3}`, true},
		{`{"a": {"$nin": [1, 2]}}`, `{}`, true},
		{`{"a": {"$nin": [1, 2]}}`, `{"a": [3, 2]}`, false},
		// $exists
		{`{"a": {"$exists": true}}`, `{"a": null}`, true},
		{`{"a": {"$exists": true}}`, `{}`, false},
		{`{"a": {"$exists": 0}}`, `{}`, true},
		{`{"a.b": {"$exists": true}}`, `{"a": [{"c": 1}, {"b": 1}]}`, true},
		// $type
		{`{"a": {"$type": "string"}}`, `{"a": "x"}`, true},
		{`{"a": {"$type": 2}}`, `{"a": "x"}`, true},
		{`{"a": {"$type": "number"}}`, `{"a": {"$numberLong": "3"}}`, true},
		{`{"a": {"$type": "number"}}`, `{"a": "3"}`, false},
		{`{"a": {"$type": ["bool", "int"]}}`, `{"a": 1}`, true},
		{`{"a": {"$type": "array"}}`, `{"a": [1]}`, true},
		{`{"a": {"$type": "int"}}`, `{"a": [1]}`, true},
		{`{"a": {"$type": "null"}}`, `{}`, false},
		{`{"a": {"$type": "double"}}`, `{"a": 1.0}`, true},
		{`{"a": {"$type": "long"}}`, `{"a": 1}`, false},
		// logical
		{`{"$and": [{"a": 1}, {"b": 2}]}`, `{"a": 1, "b": 2}`, true},
		{`{"$and": [{"a": 1}, {"b": 2}]}`, `{"a": 1, "b": 3}`, false},
		{`{"$or": [{"a": 1}, {"b": 2}]}`, `{"b": 2}`, true},
		{`{"$or": [{"a": 1}, {"b": 2}]}`, `{"c": 2}`, false},
		{`{"$nor": [{"a": 1}, {"b": 2}]}`, `{"c": 2}`, true},
		{`{"$nor": [{"a": 1}, {"b": 2}]}`, `{"a": 1}`, false},
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": 3}`, true},
		{`{"a": {"$not": {"$gt": 5}}}`, `{}`, true},
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": 7}`, false},
		{`{"a": {"$not": {"$regularExpression": {"pattern": "^x", "options": ""}}}}`, `{"a": "yx"}`, true},
		{`{"$comment": "hi", "a": 1}`, `{"a": 1}`, true},
		{`{"$alwaysFalse": 1}`, `{"a": 1}`, false},
		// $elemMatch
		{`{"a": {"$elemMatch": {"$gt": 1, "$lt": 3}}}`, `{"a": [0, 5, 2]}`, true},
		{`{"a": {"$elemMatch": {"$gt": 1, "$lt": 3}}}`, `{"a": [0, 5]}`, false},
		{`{"a": {"$elemMatch": {"$gt": 1}}}`, `{"a": 5}`, false},
		{`{"a": {"$elemMatch": {"b": 1, "c": 2}}}`, `{"a": [{"b": 1}, {"c": 2}]}`, false},
		{`{"a": {"$elemMatch": {"b": 1, "c": 2}}}`, `{"a": [{"b": 1, "c": 2}]}`, true},
		{`{"a": {"$elemMatch": {"$or": [{"b": 1}, {"c": 2}]}}}`, `{"a": [{"c": 2}]}`, true},
		{`{"a.b": {"$elemMatch": {"$eq": 3}}}`, `{"a": [{"b": [1]}, {"b": [3]}]}`, true},
		// $size
		{`{"a": {"$size": 2}}`, `{"a": [1, [2, 3]]}`, true},
		{`{"a": {"$size": 0}}`, `{"a": []}`, true},
		{`{"a": {"$size": 1}}`, `{"a": 1}`, false},
		{`{"a": {"$size": 1.0}}`, `{"a": ["x"]}`, true},
		// $all
		{`{"a": {"$all": [1, 2]}}`, `{"a": [2, 3, 1]}`, true},
		{`{"a": {"$all": [1, 2]}}`, `{"a": [1]}`, false},
		{`{"a": {"$all": [1]}}`, `{"a": 1}`, true},
		{`{"a": {"$all": []}}`, `{"a": [1]}`, false},
		{`{"a": {"$all": [[1, 2]]}}`, `{"a": [[1, 2]]}`, true},
		{`{"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"b": 2}}]}}`, `{"a": [{"b": 1}, {"b": 2}]}`, true},
		// $regex
		{`{"a": {"$regex": "^ab"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": "^AB", "$options": "i"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": "^AB"}}`, `{"a": "abc"}`, false},
		{`{"a": {"$regex": "^b", "$options": "m"}}`, `{"a": "a\nb"}`, true},
		{`{"a": {"$regex": "a.b", "$options": "s"}}`, `{"a": "a\nb"}`, true},
		{`{"a": {"$regex": "a b # comment", "$options": "x"}}`, `{"a": "ab"}`, true},
		{`{"a": {"$regularExpression": {"pattern": "b", "options": ""}}}`, `{"a": ["x", "abc"]}`, true},
		{`{"a": {"$regularExpression": {"pattern": "1", "options": ""}}}`, `{"a": 1}`, false},
		{`{"a": {"$regularExpression": {"pattern": "x", "options": "i"}}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": "i"}}}`, true},
		{`{"a": {"$regex": {"$regularExpression": {"pattern": "X", "options": "i"}}}}`, `{"a": "x"}`, true},
		// $mod
		{`{"a": {"$mod": [4, 1]}}`, `{"a": 5}`, true},
		{`{"a": {"$mod": [4, 1]}}`, `{"a": 5.9}`, true},
		{`{"a": {"$mod": [4, 1]}}`, `{"a": 6}`, false},
		{`{"a": {"$mod": [4, -1]}}`, `{"a": -5}`, true},
		{`{"a": {"$mod": [4, 1]}}`, `{"a": "5"}`, false},
		// DBRef-shaped documents are values
		{`{"a": {"$ref": "c", "$id": 1}}`, `{"a": {"$ref": "c", "$id": 1}}`, true},
	}
	for _, c := range cases {
		m, err := NewMatcher(D(t, c.filter))
		if err != nil {
			t.Errorf("NewMatcher(%s): %v", c.filter, err)
			continue
		}
		if got := m.Match(D(t, c.doc)); got != c.want {
			t.Errorf("filter %s doc %s: got %v want %v", c.filter, c.doc, got, c.want)
		}
	}
}

func TestMatcherErrors(t *testing.T) {
	cases := []struct {
		filter string
		code   mongoerr.Code
		msg    string
	}{
		{`{"a": {"$foo": 1}}`, mongoerr.BadValue, "unknown operator: $foo"},
		{`{"$foo": 1}`, mongoerr.BadValue, "unknown top level operator: $foo. If you have a field name that starts with a '$' symbol, consider using $getField or $setField."},
		{`{"a": {"$in": 1}}`, mongoerr.BadValue, "$in needs an array"},
		{`{"a": {"$nin": {}}}`, mongoerr.BadValue, "$nin needs an array"},
		{`{"a": {"$in": [{"$gt": 1}]}}`, mongoerr.BadValue, "cannot nest $ under $in"},
		{`{"$and": []}`, mongoerr.BadValue, "$and/$or/$nor must be a nonempty array"},
		{`{"$or": {}}`, mongoerr.BadValue, "$or must be an array"},
		{`{"$or": [1]}`, mongoerr.BadValue, "$or/$and/$nor entries need to be full objects"},
		{`{"a": {"$size": "x"}}`, mongoerr.BadValue, "$size needs a number"},
		{`{"a": {"$size": -1}}`, mongoerr.BadValue, "$size may not be negative"},
		{`{"a": {"$size": 1.5}}`, mongoerr.BadValue, "$size must be a whole number"},
		{`{"a": {"$type": "foo"}}`, mongoerr.BadValue, "Unknown type name alias: foo"},
		{`{"a": {"$type": 99}}`, mongoerr.BadValue, "Invalid numerical type code: 99"},
		{`{"a": {"$all": 1}}`, mongoerr.BadValue, "$all needs an array"},
		{`{"a": {"$elemMatch": 1}}`, mongoerr.BadValue, "$elemMatch needs an Object"},
		{`{"a": {"$mod": [0, 1]}}`, mongoerr.BadValue, "divisor cannot be 0"},
		{`{"a": {"$mod": [1]}}`, mongoerr.BadValue, "malformed mod, not enough elements"},
		{`{"a": {"$mod": [1, 2, 3]}}`, mongoerr.BadValue, "malformed mod, too many elements"},
		{`{"a": {"$mod": 1}}`, mongoerr.BadValue, "malformed mod, needs to be an array"},
		{`{"a": {"$not": {}}}`, mongoerr.BadValue, "$not cannot be empty"},
		{`{"a": {"$not": 1}}`, mongoerr.BadValue, "$not needs a regex or a document"},
		{`{"a": {"$options": "i"}}`, mongoerr.BadValue, "$options needs a $regex"},
		{`{"a": {"$regex": "x", "$options": "z"}}`, codeInvalidRegexFlag, "invalid flag in regex options: z"},
		{`{"a": {"$regex": "(?=x)"}}`, codeInvalidRegex, ""},
		{`{"a": {"$regex": 1}}`, mongoerr.BadValue, "$regex has to be a string"},
		{`{"a": {"$ne": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, mongoerr.BadValue, "Can't have regex as arg to $ne."},
		{`{"$expr": {"$eq": ["$a", 1]}}`, mongoerr.BadValue, "$expr is not supported by mongoemu"},
		{`{"a": {"$near": [0, 0]}}`, mongoerr.BadValue, "$near is not supported by mongoemu"},
	}
	for _, c := range cases {
		_, err := NewMatcher(D(t, c.filter))
		me := wantCode(t, err, c.code, c.filter)
		if c.msg != "" && me.Msg != c.msg {
			t.Errorf("%s: message %q, want %q", c.filter, me.Msg, c.msg)
		}
	}
}

func TestIDEqualityAndEqualityFields(t *testing.T) {
	cases := []struct {
		filter string
		id     string // "" when not pinned
		fields string
	}{
		{`{"_id": 5}`, `5`, `_id=5`},
		{`{"_id": {"$eq": "x"}, "a": 1}`, `"x"`, `_id="x" a=1`},
		{`{"$and": [{"_id": 1}, {"b.c": 2}]}`, `1`, `_id=1 b.c=2`},
		{`{"_id": {"$gt": 5}}`, ``, ``},
		{`{"_id": {"$in": [1, 2]}}`, ``, ``},
		{`{"$or": [{"_id": 1}]}`, ``, ``},
		{`{"a": {"$regularExpression": {"pattern": "x", "options": ""}}, "b": {"x": 1}}`, ``, `b={x: 1}`},
	}
	for _, c := range cases {
		m, err := NewMatcher(D(t, c.filter))
		if err != nil {
			t.Fatal(err)
		}
		id, ok := m.IDEquality()
		if ok != (c.id != "") || (ok && !Equal(id, V(t, c.id))) {
			t.Errorf("%s: IDEquality = %v %v, want %s", c.filter, id, ok, c.id)
		}
		got := ""
		for _, f := range m.EqualityFields() {
			if got != "" {
				got += " "
			}
			got += f.Path + "=" + fmtValue(f.Value)
		}
		if got != c.fields {
			t.Errorf("%s: EqualityFields = %s, want %s", c.filter, got, c.fields)
		}
	}
}

// Compiled matchers are shared by concurrent cursors; -race checks that
// matching does not write to them.
func TestMatcherConcurrent(t *testing.T) {
	m, err := NewMatcher(D(t, `{"a.b": {"$in": [1, 2]}, "c": {"$regex": "^x"}, "d": {"$elemMatch": {"e": 1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	doc := D(t, `{"a": [{"b": 2}], "c": "xy", "d": [{"e": 1}]}`)
	done := make(chan bool)
	for range 4 {
		go func() {
			ok := true
			for range 1000 {
				ok = ok && m.Match(doc)
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Fatal("concurrent match failed")
		}
	}
}
