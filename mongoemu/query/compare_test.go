package query

import (
	"math"
	"testing"
	"testing/quick"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestCompareOrder(t *testing.T) {
	// Each value is strictly less than the next (BSON canonical type order).
	ordered := []string{
		`{"$minKey": 1}`,
		`{"$undefined": true}`,
		`null`,
		`{"$numberDouble": "NaN"}`,
		`{"$numberDouble": "-Infinity"}`,
		`-5`,
		`1.5`,
		`{"$numberLong": "9007199254740993"}`,
		`{"$numberDecimal": "9007199254740994"}`,
		`{"$numberDouble": "Infinity"}`,
		`""`,
		`"a"`,
		`"ab"`,
		`"b"`,
		`{}`,
		`{"a": 1}`,
		`{"a": 1, "b": 1}`,
		`{"b": 0}`, // element type before field name
		`{"a": "x"}`,
		`[]`,
		`[1]`,
		`[1, 2]`,
		`[2]`,
		`{"$binary": {"base64": "AQ==", "subType": "05"}}`,
		`{"$binary": {"base64": "AAA=", "subType": "00"}}`,
		`{"$oid": "000000000000000000000001"}`,
		`{"$oid": "100000000000000000000000"}`,
		`false`,
		`true`,
		`{"$date": {"$numberLong": "-1"}}`,
		`{"$date": {"$numberLong": "5"}}`,
		`{"$timestamp": {"t": 1, "i": 9}}`,
		`{"$timestamp": {"t": 2, "i": 1}}`,
		`{"$regularExpression": {"pattern": "a", "options": ""}}`,
		`{"$regularExpression": {"pattern": "a", "options": "i"}}`,
		`{"$maxKey": 1}`,
	}
	vals := make([]bson.RawValue, len(ordered))
	for i, s := range ordered {
		vals[i] = V(t, s)
	}
	for i := range vals {
		for j := range vals {
			got := Compare(vals[i], vals[j])
			want := cmpInt(int64(i), int64(j))
			if got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestEqualNumbersAcrossTypes(t *testing.T) {
	one := []string{`1`, `{"$numberLong": "1"}`, `1.0`, `{"$numberDecimal": "1.000"}`}
	for _, a := range one {
		for _, b := range one {
			if !Equal(V(t, a), V(t, b)) {
				t.Errorf("%s != %s", a, b)
			}
			if EqualityKey(V(t, a)) != EqualityKey(V(t, b)) {
				t.Errorf("key(%s) != key(%s)", a, b)
			}
		}
	}
	cases := []struct {
		a, b string
		want int
	}{
		{`{"$numberLong": "9007199254740993"}`, `9007199254740992.0`, 1},
		{`{"$numberLong": "9223372036854775807"}`, `9223372036854775807.0`, -1},
		{`-0.0`, `0`, 0},
		{`{"$numberDouble": "NaN"}`, `{"$numberDecimal": "NaN"}`, 0},
		{`0.1`, `{"$numberDecimal": "0.1"}`, 1}, // the double is 0.1000000000000000055...
		{`{"a": 1}`, `{"a": 1.0}`, 0},
		{`[1, {"b": 2}]`, `[1.0, {"b": {"$numberLong": "2"}}]`, 0},
		{`"a"`, `{"$symbol": "a"}`, 0},
	}
	for _, c := range cases {
		if got := Compare(V(t, c.a), V(t, c.b)); got != c.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
		if eq := EqualityKey(V(t, c.a)) == EqualityKey(V(t, c.b)); eq != (c.want == 0) {
			t.Errorf("EqualityKey(%s)==EqualityKey(%s) is %v", c.a, c.b, eq)
		}
	}
}

// Compare is antisymmetric and consistent with EqualityKey on random numbers.
func TestCompareQuick(t *testing.T) {
	f := func(i int64, d float64, j int32) bool {
		vals := []bson.RawValue{int64Val(i), doubleVal(d), int32Val(j), doubleVal(float64(i)), doubleVal(math.Trunc(d))}
		for _, a := range vals {
			for _, b := range vals {
				c := Compare(a, b)
				if c != -Compare(b, a) {
					return false
				}
				if (c == 0) != (EqualityKey(a) == EqualityKey(b)) {
					return false
				}
			}
		}
		return true
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}

func TestLookup(t *testing.T) {
	doc := D(t, `{"a": [{"b": 1}, {"b": [2, 3]}, {"c": 4}, 5], "x": {"y": {"z": "deep"}}, "n": [[1, 2], 3]}`)
	cases := []struct {
		path string
		want string
	}{
		{"a.b", `[1,[2,3],2,3]`},
		{"a.1.b", `[[2,3],2,3]`},
		{"a.3", `[5]`},
		{"x.y.z", `["deep"]`},
		{"x.q", `[]`},
		{"n", `[[[1,2],3],[1,2],3]`},
		{"n.0", `[[1,2],1,2]`},
		{"nope.deeper", `[]`},
	}
	for _, c := range cases {
		got := Lookup(doc, c.path)
		if s := J(t, arrayVal(got).Value); s != jsonArrayAsDoc(c.want) {
			t.Errorf("Lookup(%q) = %s, want %s", c.path, s, c.want)
		}
	}
}

// jsonArrayAsDoc renders [x, y] the way J shows an array's bytes as a document.
func jsonArrayAsDoc(arr string) string {
	var r bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(`{"v":`+arr+`}`), false, &r); err != nil {
		panic(err)
	}
	b, _ := bson.MarshalExtJSON(bson.Raw(r.Lookup("v").Value), false, false)
	return string(b)
}
