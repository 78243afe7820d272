package storage

import (
	"bytes"
	"math"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestKeyOrder(t *testing.T) {
	dec := func(s string) bson.Decimal128 {
		d, err := bson.ParseDecimal128(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	oid := func(b byte) bson.ObjectID { var o bson.ObjectID; o[11] = b; return o }
	// Ascending in MongoDB's order; values in one group compare equal.
	groups := [][]any{
		{bson.MinKey{}},
		{nil},
		{math.NaN()},
		{math.Inf(-1)},
		{int64(math.MinInt64), -9.223372036854775808e18},
		{int64(math.MinInt64 + 1)},
		{int64(-(1 << 53) - 1)},
		{-(float64(1 << 53)), int64(-(1 << 53))},
		{-1.5},
		{int32(-1), int64(-1), -1.0, dec("-1")},
		{0.0, math.Copysign(0, -1), int32(0), int64(0)},
		{0.5, dec("0.5")},
		{int32(1), int64(1), 1.0, dec("1.0")},
		{1.5},
		{int64(1 << 53), float64(1 << 53)},
		{int64(1<<53 + 1)},
		{float64(1<<53 + 2), int64(1<<53 + 2)},
		{int64(math.MaxInt64 - 1)},
		{int64(math.MaxInt64)},
		{9.223372036854775808e18},
		{math.Inf(1)},
		{"", bson.Symbol("")},
		{"a"},
		{"a\x00"},
		{"a\x00b"},
		{"ab", bson.Symbol("ab")},
		{"b"},
		{bson.D{}},
		{bson.D{{Key: "a", Value: int32(1)}}, bson.D{{Key: "a", Value: 1.0}}},
		{bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(1)}}},
		{bson.D{{Key: "a", Value: int32(2)}}},
		{bson.D{{Key: "b", Value: int32(0)}}},
		{bson.D{{Key: "a", Value: "x"}}}, // strings sort after numbers whatever the field name
		{bson.A{}},
		{bson.A{int32(1)}, bson.A{1.0}},
		{bson.A{int32(1), int32(2)}},
		{bson.Binary{Subtype: 0x80, Data: []byte{9}}},
		{bson.Binary{Subtype: 0, Data: []byte{1, 2}}},
		{bson.Binary{Subtype: 0, Data: []byte{1, 3}}},
		{bson.Binary{Subtype: 4, Data: []byte{0, 0}}},
		{oid(1)},
		{oid(2)},
		{false},
		{true},
		{bson.DateTime(-1)},
		{bson.DateTime(0)},
		{bson.DateTime(1)},
		{bson.Timestamp{T: 1, I: 2}},
		{bson.Timestamp{T: 2, I: 1}},
		{bson.Regex{Pattern: "a", Options: "i"}},
		{bson.JavaScript("x")},
		{bson.MaxKey{}},
	}
	var prev []byte
	var prevV any
	for gi, g := range groups {
		var first []byte
		for _, v := range g {
			k, err := KeyOf(val(t, v))
			if err != nil {
				t.Fatalf("group %d: KeyOf(%#v): %v", gi, v, err)
			}
			if first == nil {
				first = k
				if prev != nil && bytes.Compare(prev, k) >= 0 {
					t.Errorf("group %d: key(%#v)=%x not after key(%#v)=%x", gi, v, k, prevV, prev)
				}
				prev, prevV = k, v
				continue
			}
			if !bytes.Equal(first, k) {
				t.Errorf("group %d: key(%#v)=%x differs from key(%#v)=%x", gi, v, k, g[0], first)
			}
		}
	}
}

func TestFloorInt64(t *testing.T) {
	for _, i := range []int64{0, 1, -1, 1 << 53, 1<<53 + 1, -(1<<53 + 1), math.MaxInt64, math.MinInt64, math.MaxInt64 - 511} {
		d, rem := floorInt64(i)
		if int64(d)+int64(rem) != i {
			t.Errorf("floorInt64(%d) = %v + %d", i, d, rem)
		}
	}
}
