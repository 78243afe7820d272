package query

import (
	"testing"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

func TestProjection(t *testing.T) {
	doc := `{"_id": 1, "a": 1, "b": {"c": 2, "d": 3}, "e": [{"f": 1, "g": 2}, 5, [{"f": 3}]], "h": "x"}`
	cases := []struct{ spec, want string }{
		{`{}`, `{"_id":1,"a":1,"b":{"c":2,"d":3},"e":[{"f":1,"g":2},5,[{"f":3}]],"h":"x"}`},
		{`{"a": 1}`, `{"_id":1,"a":1}`},
		{`{"h": true, "a": 1}`, `{"_id":1,"a":1,"h":"x"}`},
		{`{"a": 1, "_id": 0}`, `{"a":1}`},
		{`{"b.c": 1}`, `{"_id":1,"b":{"c":2}}`},
		{`{"b": {"c": 1}}`, `{"_id":1,"b":{"c":2}}`},
		{`{"e.f": 1}`, `{"_id":1,"e":[{"f":1},[{"f":3}]]}`},
		{`{"a.z": 1}`, `{"_id":1}`},
		{`{"b.z": 1}`, `{"_id":1,"b":{}}`},
		{`{"_id": 1}`, `{"_id":1}`},
		{`{"_id": 0}`, `{"a":1,"b":{"c":2,"d":3},"e":[{"f":1,"g":2},5,[{"f":3}]],"h":"x"}`},
		{`{"a": 0}`, `{"_id":1,"b":{"c":2,"d":3},"e":[{"f":1,"g":2},5,[{"f":3}]],"h":"x"}`},
		{`{"b.c": 0, "e.f": 0, "_id": 0}`, `{"a":1,"b":{"d":3},"e":[{"g":2},5,[{}]],"h":"x"}`},
		{`{"_id": 1, "a": 0}`, `{"_id":1,"b":{"c":2,"d":3},"e":[{"f":1,"g":2},5,[{"f":3}]],"h":"x"}`},
		{`{"a": 1, "k": "$b.c", "l": {"$literal": 1}, "m": "lit"}`, `{"_id":1,"a":1,"k":2,"l":1,"m":"lit"}`},
		{`{"a": 1, "n": "$nope"}`, `{"_id":1,"a":1}`},
	}
	for _, c := range cases {
		p, err := NewProjection(D(t, c.spec))
		if err != nil {
			t.Errorf("NewProjection(%s): %v", c.spec, err)
			continue
		}
		if got := J(t, p.Apply(D(t, doc))); got != c.want {
			t.Errorf("projection %s = %s, want %s", c.spec, got, c.want)
		}
	}
}

func TestProjectionErrors(t *testing.T) {
	cases := []struct {
		spec string
		code mongoerr.Code
		msg  string
	}{
		{`{"a": 1, "b": 0}`, codeExclusionInInclusion, "Cannot do exclusion on field b in inclusion projection"},
		{`{"a": 0, "b": 1}`, codeInclusionInExclusion, "Cannot do inclusion on field b in exclusion projection"},
		{`{"a": 1, "a.b": 1}`, codePathCollision, "Path collision at a.b remaining portion b"},
		{`{"a.b": 1, "a": 1}`, codePathCollisionPrefix, "Path collision at a"},
		{`{"a": {"$slice": 1}}`, mongoerr.BadValue, "$slice projection is not supported by mongoemu"},
		{`{"a.$": 1}`, mongoerr.BadValue, ""},
		{`{"a": {}}`, codeEmptySubProjection, ""},
	}
	for _, c := range cases {
		_, err := NewProjection(D(t, c.spec))
		me := wantCode(t, err, c.code, c.spec)
		if c.msg != "" && me.Msg != c.msg {
			t.Errorf("%s: %q want %q", c.spec, me.Msg, c.msg)
		}
	}
}
