package query

import (
	"math"
	"math/big"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Arithmetic for $inc, $mul and $sum with mongod's type promotion (SafeNum):
// decimal if either side is decimal, else double if either is double, else
// int32 when both are int32 and the result fits, else int64. ok is false when
// an int64 result overflows; $inc/$mul report that as an error while $sum
// falls back to double.

func addNumbers(a, b bson.RawValue) (bson.RawValue, bool) {
	switch {
	case a.Type == bson.TypeDecimal128 || b.Type == bson.TypeDecimal128:
		return decimalOp(a, b, false)
	case a.Type == bson.TypeDouble || b.Type == bson.TypeDouble:
		x, _ := numberAsFloat(a)
		y, _ := numberAsFloat(b)
		return doubleVal(x + y), true
	}
	x, y := intOf(a), intOf(b)
	s := x + y
	if (s > x) != (y > 0) {
		return missing, false
	}
	return narrowInt(s, a.Type == bson.TypeInt32 && b.Type == bson.TypeInt32), true
}

func mulNumbers(a, b bson.RawValue) (bson.RawValue, bool) {
	switch {
	case a.Type == bson.TypeDecimal128 || b.Type == bson.TypeDecimal128:
		return decimalOp(a, b, true)
	case a.Type == bson.TypeDouble || b.Type == bson.TypeDouble:
		x, _ := numberAsFloat(a)
		y, _ := numberAsFloat(b)
		return doubleVal(x * y), true
	}
	x, y := intOf(a), intOf(b)
	p := x * y
	if x != 0 && (p/x != y || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64)) {
		return missing, false
	}
	return narrowInt(p, a.Type == bson.TypeInt32 && b.Type == bson.TypeInt32), true
}

// narrowInt keeps int32 when both inputs were int32 and the result fits.
func narrowInt(n int64, bothInt32 bool) bson.RawValue {
	if bothInt32 && n >= math.MinInt32 && n <= math.MaxInt32 {
		return int32Val(int32(n))
	}
	return int64Val(n)
}

// zeroLike is the zero of v's numeric type ($mul on a missing field).
func zeroLike(v bson.RawValue) bson.RawValue {
	switch v.Type {
	case bson.TypeInt64:
		return int64Val(0)
	case bson.TypeDouble:
		return doubleVal(0)
	case bson.TypeDecimal128:
		d, _ := bson.ParseDecimal128("0")
		return decimalVal(d)
	}
	return int32Val(0)
}

// decParts returns v as significand * 10^exp; doubles convert with 15
// significant digits like mongod's Decimal128(double).
func decParts(v bson.RawValue) (*big.Int, int, bool) {
	var d bson.Decimal128
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64:
		return big.NewInt(intOf(v)), 0, true
	case bson.TypeDouble:
		var err error
		d, err = bson.ParseDecimal128(strconv.FormatFloat(readF64(v.Value), 'e', 14, 64))
		if err != nil {
			return nil, 0, false
		}
	default:
		d = decimalOf(v)
	}
	bi, exp, err := d.BigInt()
	return bi, exp, err == nil
}

func decimalOp(a, b bson.RawValue, mul bool) (bson.RawValue, bool) {
	ai, ae, ok1 := decParts(a)
	bi, be, ok2 := decParts(b)
	if !ok1 || !ok2 {
		return decimalNaN(), true
	}
	var r *big.Int
	var e int
	if mul {
		r, e = new(big.Int).Mul(ai, bi), ae+be
	} else {
		e = min(ae, be)
		x := new(big.Int).Mul(ai, pow10(ae-e))
		y := new(big.Int).Mul(bi, pow10(be-e))
		r = x.Add(x, y)
	}
	// Round to decimal128's 34 digits (half up) before encoding.
	limit := pow10(34)
	ten := big.NewInt(10)
	for new(big.Int).Abs(r).Cmp(limit) >= 0 {
		q, m := new(big.Int).QuoRem(r, ten, new(big.Int))
		if m.CmpAbs(big.NewInt(5)) >= 0 {
			q.Add(q, big.NewInt(int64(r.Sign())))
		}
		r, e = q, e+1
	}
	d, ok := bson.ParseDecimal128FromBigInt(r, e)
	if !ok {
		return decimalNaN(), true
	}
	return decimalVal(d), true
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

func decimalNaN() bson.RawValue {
	d, _ := bson.ParseDecimal128("NaN")
	return decimalVal(d)
}
