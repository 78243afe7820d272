package query

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// D parses relaxed extended JSON into a document: 1 is int32, 1.0 double,
// {"$numberLong": "1"} int64, {"$regularExpression": ...} a regex.
func D(t testing.TB, s string) bson.Raw {
	t.Helper()
	var r bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(s), false, &r); err != nil {
		t.Fatalf("bad ext JSON %s: %v", s, err)
	}
	return r
}

// V parses one value: V(t, `1`) is int32(1).
func V(t testing.TB, s string) bson.RawValue {
	t.Helper()
	return D(t, `{"v": `+s+`}`).Lookup("v")
}

// J renders a document as relaxed extended JSON for comparisons.
func J(t testing.TB, r bson.Raw) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(r, false, false)
	if err != nil {
		t.Fatalf("marshal %v: %v", r, err)
	}
	return string(b)
}

// wantCode checks err is a *mongoerr.Error with code (0 means no error).
func wantCode(t testing.TB, err error, code mongoerr.Code, ctx string) *mongoerr.Error {
	t.Helper()
	if code == 0 {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", ctx, err)
		}
		return nil
	}
	var me *mongoerr.Error
	if !errors.As(err, &me) {
		t.Fatalf("%s: want code %d, got %v", ctx, code, err)
	}
	if me.Code != code {
		t.Fatalf("%s: want code %d, got %v", ctx, code, me)
	}
	return me
}

func TestHelpers(t *testing.T) {
	d := D(t, `{"a": 1, "b": 1.0, "c": {"$numberLong": "1"}, "d": {"x": [1]}}`)
	want := []bson.Type{bson.TypeInt32, bson.TypeDouble, bson.TypeInt64, bson.TypeEmbeddedDocument}
	for i, k := range []string{"a", "b", "c", "d"} {
		if d.Lookup(k).Type != want[i] {
			t.Fatalf("%s: type %v", k, d.Lookup(k).Type)
		}
	}
	if J(t, d) != `{"a":1,"b":1.0,"c":1,"d":{"x":[1]}}` {
		t.Fatal(J(t, d))
	}
}
