package query

import (
	"encoding/binary"
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// EqualityKey returns a string such that EqualityKey(a) == EqualityKey(b)
// exactly when Equal(a, b). Storage uses it to key hash maps (the _id index,
// $group, $addToSet) so that 1, int64(1) and 1.0 land on the same entry the
// way mongod's unique _id index treats them.
func EqualityKey(v bson.RawValue) string {
	var buf [32]byte
	return string(appendKey(buf[:0], v, 0))
}

func appendKey(dst []byte, v bson.RawValue, depth int) []byte {
	c := canonical(v.Type)
	dst = append(dst, byte(c+2))
	if depth > 200 {
		return append(dst, v.Value...)
	}
	switch c {
	case 0, 5, -1, 127:
		return dst
	case 10:
		return appendNumberKey(dst, v)
	case 15, 60:
		return appendLenPrefixed(dst, []byte(strOf(v)))
	case 20, 25:
		it := iterDoc(v.Value)
		for {
			k, e, _, ok := it.next()
			if !ok {
				return append(dst, 0xff)
			}
			dst = append(dst, 1)
			if c == 20 {
				dst = appendLenPrefixed(dst, k)
			}
			dst = appendKey(dst, e, depth+1)
		}
	case 40:
		if len(v.Value) > 0 && v.Value[0] != 0 {
			return append(dst, 1)
		}
		return append(dst, 0)
	}
	return appendLenPrefixed(dst, v.Value)
}

func appendLenPrefixed(dst, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// appendNumberKey canonicalizes a number: integral values that fit in int64
// as 'i'+int64, other values exactly representable as float64 as 'f'+bits,
// NaN as 'n', and the remaining decimals as their exact rational.
func appendNumberKey(dst []byte, v bson.RawValue) []byte {
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64:
		return binary.LittleEndian.AppendUint64(append(dst, 'i'), uint64(intOf(v)))
	case bson.TypeDouble:
		return appendFloatKey(dst, readF64(v.Value))
	}
	e := toExact(v)
	switch e.special {
	case -2:
		return append(dst, 'n')
	case 1:
		return appendFloatKey(dst, math.Inf(1))
	case -1:
		return appendFloatKey(dst, math.Inf(-1))
	}
	if e.r.IsInt() && e.r.Num().IsInt64() {
		return binary.LittleEndian.AppendUint64(append(dst, 'i'), uint64(e.r.Num().Int64()))
	}
	if f, exact := e.r.Float64(); exact {
		return appendFloatKey(dst, f)
	}
	return appendLenPrefixed(append(dst, 'r'), []byte(e.r.String()))
}

func appendFloatKey(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, 'n')
	case f == math.Trunc(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0:
		return binary.LittleEndian.AppendUint64(append(dst, 'i'), uint64(int64(f)))
	}
	return binary.LittleEndian.AppendUint64(append(dst, 'f'), math.Float64bits(f))
}
