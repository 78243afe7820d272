package query

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// canonical ranks BSON types in MongoDB's cross-type sort order
// (canonicalizeBSONType in mongo's bsontypes.h). Undefined sorts just below
// null as in mongod; equality matching against null accepts both.
func canonical(t bson.Type) int {
	switch t {
	case bson.TypeMinKey:
		return -1
	case 0, bson.TypeUndefined:
		return 0
	case bson.TypeNull:
		return 5
	case bson.TypeDouble, bson.TypeInt32, bson.TypeInt64, bson.TypeDecimal128:
		return 10
	case bson.TypeString, bson.TypeSymbol:
		return 15
	case bson.TypeEmbeddedDocument:
		return 20
	case bson.TypeArray:
		return 25
	case bson.TypeBinary:
		return 30
	case bson.TypeObjectID:
		return 35
	case bson.TypeBoolean:
		return 40
	case bson.TypeDateTime:
		return 45
	case bson.TypeTimestamp:
		return 47
	case bson.TypeRegex:
		return 50
	case bson.TypeDBPointer:
		return 55
	case bson.TypeJavaScript:
		return 60
	case bson.TypeCodeWithScope:
		return 65
	case bson.TypeMaxKey:
		return 127
	}
	return 126
}

func isNumber(t bson.Type) bool { return canonical(t) == 10 }

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Compare orders two values like MongoDB: first by canonical type (MinKey <
// undefined < null < numbers < strings < objects < arrays < binData <
// ObjectId < bool < date < timestamp < regex < dbPointer < code < code with
// scope < MaxKey), then by value. Numbers compare by value across int32,
// int64, double and decimal128 (NaN equals NaN and sorts below every other
// number); strings compare bytewise (no collation); objects compare element
// by element (type, then field name, then value), arrays element by element.
func Compare(a, b bson.RawValue) int {
	ca, cb := canonical(a.Type), canonical(b.Type)
	if ca != cb {
		return cmpInt(int64(ca), int64(cb))
	}
	switch ca {
	case 10:
		return compareNumbers(a, b)
	case 15, 60:
		return compareStrings(strOf(a), strOf(b))
	case 20:
		return compareDocs(a.Value, b.Value, true)
	case 25:
		return compareDocs(a.Value, b.Value, false)
	case 30:
		// mongod orders binData by length, then subtype, then bytes.
		if c := cmpInt(int64(readI32(a.Value)), int64(readI32(b.Value))); c != 0 {
			return c
		}
		return bytes.Compare(a.Value[min(4, len(a.Value)):], b.Value[min(4, len(b.Value)):])
	case 35, 40:
		return bytes.Compare(a.Value, b.Value)
	case 45:
		return cmpInt(readI64(a.Value), readI64(b.Value))
	case 47:
		// Timestamps are unsigned: seconds in the high word, increment in the low.
		x, y := uint64(readI64(a.Value)), uint64(readI64(b.Value))
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
		return 0
	case 50:
		pa, oa := regexOf(a)
		pb, ob := regexOf(b)
		if c := compareStrings(pa, pb); c != 0 {
			return c
		}
		return compareStrings(oa, ob)
	case 55, 65:
		return bytes.Compare(a.Value, b.Value)
	}
	return 0
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Equal reports whether Compare(a, b) == 0, with a fast path for identical bytes.
func Equal(a, b bson.RawValue) bool {
	if a.Type == b.Type && bytes.Equal(a.Value, b.Value) {
		return true
	}
	if canonical(a.Type) != canonical(b.Type) {
		return false
	}
	return Compare(a, b) == 0
}

// compareDocs compares two documents (or arrays, withNames false) the way
// BSONObj::woCompare does: element by element, shorter first on a tie.
func compareDocs(a, b []byte, withNames bool) int {
	ia, ib := iterDoc(a), iterDoc(b)
	for {
		ka, va, _, oka := ia.next()
		kb, vb, _, okb := ib.next()
		switch {
		case !oka && !okb:
			return 0
		case !oka:
			return -1
		case !okb:
			return 1
		}
		if c := cmpInt(int64(canonical(va.Type)), int64(canonical(vb.Type))); c != 0 {
			return c
		}
		if withNames {
			if c := bytes.Compare(ka, kb); c != 0 {
				return c
			}
		}
		if c := Compare(va, vb); c != 0 {
			return c
		}
	}
}

func compareNumbers(a, b bson.RawValue) int {
	if a.Type == bson.TypeDecimal128 || b.Type == bson.TypeDecimal128 {
		return compareExact(a, b)
	}
	af, bf := a.Type == bson.TypeDouble, b.Type == bson.TypeDouble
	switch {
	case af && bf:
		return cmpFloat(readF64(a.Value), readF64(b.Value))
	case af:
		return -cmpIntFloat(intOf(b), readF64(a.Value))
	case bf:
		return cmpIntFloat(intOf(a), readF64(b.Value))
	}
	return cmpInt(intOf(a), intOf(b))
}

// intOf reads an int32 or int64 value.
func intOf(v bson.RawValue) int64 {
	if v.Type == bson.TypeInt32 {
		return int64(readI32(v.Value))
	}
	return readI64(v.Value)
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	case x == y:
		return 0
	}
	xn, yn := math.IsNaN(x), math.IsNaN(y)
	switch {
	case xn && yn:
		return 0
	case xn:
		return -1
	}
	return 1
}

// cmpIntFloat compares exactly: converting the int64 to float64 would make
// 2^53+1 equal to 2^53.
func cmpIntFloat(i int64, f float64) int {
	switch {
	case math.IsNaN(f):
		return 1
	case f >= 9223372036854775808.0:
		return -1
	case f < -9223372036854775808.0:
		return 1
	}
	t := math.Trunc(f)
	if c := cmpInt(i, int64(t)); c != 0 {
		return c
	}
	return cmpFloat(0, f-t)
}

// exactNum is a number as an exact rational, or a special (NaN, ±Inf).
// It is only used when a decimal128 is involved, which is rare.
type exactNum struct {
	special int // 0 finite, -2 NaN, -1 -Inf, +1 +Inf
	r       *big.Rat
}

func toExact(v bson.RawValue) exactNum {
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64:
		return exactNum{r: new(big.Rat).SetInt64(intOf(v))}
	case bson.TypeDouble:
		f := readF64(v.Value)
		switch {
		case math.IsNaN(f):
			return exactNum{special: -2}
		case math.IsInf(f, 1):
			return exactNum{special: 1}
		case math.IsInf(f, -1):
			return exactNum{special: -1}
		}
		return exactNum{r: new(big.Rat).SetFloat64(f)}
	case bson.TypeDecimal128:
		d := decimalOf(v)
		switch {
		case d.IsNaN():
			return exactNum{special: -2}
		case d.IsInf() != 0:
			return exactNum{special: d.IsInf()}
		}
		bi, exp, err := d.BigInt()
		if err != nil {
			return exactNum{special: -2}
		}
		r := new(big.Rat).SetInt(bi)
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil)
		if exp >= 0 {
			r.Mul(r, new(big.Rat).SetInt(p))
		} else {
			r.Quo(r, new(big.Rat).SetInt(p))
		}
		return exactNum{r: r}
	}
	return exactNum{special: -2}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func decimalOf(v bson.RawValue) bson.Decimal128 {
	if len(v.Value) < 16 {
		return bson.Decimal128{}
	}
	return bson.NewDecimal128(binary.LittleEndian.Uint64(v.Value[8:]), binary.LittleEndian.Uint64(v.Value))
}

func compareExact(a, b bson.RawValue) int {
	x, y := toExact(a), toExact(b)
	rank := func(e exactNum) int {
		if e.special == -2 {
			return -3
		}
		return e.special * 2
	}
	if x.special != 0 || y.special != 0 {
		return cmpInt(int64(rank(x)), int64(rank(y)))
	}
	return x.r.Cmp(y.r)
}
