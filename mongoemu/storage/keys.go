package storage

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Type classes in MongoDB's cross-type sort order (MinKey < null < numbers < strings < objects <
// arrays < BinData < ObjectId < bool < Date < Timestamp < regex < DBPointer < code < MaxKey).
// Types MongoDB compares as equal share a class: all numbers; string and symbol.
const (
	clsEnd        byte = 0x00 // end of an embedded document or array
	clsMinKey     byte = 0x05
	clsUndefined  byte = 0x08
	clsNull       byte = 0x0a
	clsNumber     byte = 0x14
	clsString     byte = 0x1e
	clsObject     byte = 0x28
	clsArray      byte = 0x32
	clsBinary     byte = 0x3c
	clsObjectID   byte = 0x46
	clsBool       byte = 0x50
	clsDate       byte = 0x5a
	clsTimestamp  byte = 0x64
	clsRegex      byte = 0x6e
	clsDBPointer  byte = 0x78
	clsJavaScript byte = 0x82
	clsCodeScope  byte = 0x8c
	clsMaxKey     byte = 0xf0
)

// KeyOf is the storage key of an _id value: byte-wise order of keys is MongoDB's order of values,
// and values MongoDB's unique _id index treats as equal get equal keys (int32 1, int64 1 and
// double 1.0; -0.0 and 0.0; string and symbol; embedded documents whose fields are equal so).
//
// Numbers are the largest double not above the value (8 order-preserving bytes) plus the exact
// integer remainder (2 bytes; non-zero only for int64 values a double cannot hold). Decimal128 is
// rounded to the nearest double, so distinct decimals that round alike collide. Strings are
// escaped (0x00 -> 0x00 0xff) and end with 0x00 0x01, so embedded values stay self-delimiting.
func KeyOf(v bson.RawValue) ([]byte, error) {
	return appendValue(make([]byte, 0, 16), v)
}

func appendValue(dst []byte, v bson.RawValue) ([]byte, error) {
	switch v.Type {
	case bson.TypeMinKey:
		return append(dst, clsMinKey), nil
	case bson.TypeMaxKey:
		return append(dst, clsMaxKey), nil
	case bson.TypeUndefined:
		return append(dst, clsUndefined), nil
	case bson.TypeNull:
		return append(dst, clsNull), nil
	case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble, bson.TypeDecimal128:
		return appendNumber(append(dst, clsNumber), v)
	case bson.TypeString, bson.TypeSymbol:
		s, ok := v.StringValueOK()
		if !ok {
			s, ok = v.SymbolOK()
		}
		if !ok {
			return nil, fmt.Errorf("key: malformed %s", v.Type)
		}
		return appendEscaped(append(dst, clsString), s), nil
	case bson.TypeEmbeddedDocument:
		return appendDocument(append(dst, clsObject), bson.Raw(v.Value), true)
	case bson.TypeArray:
		return appendDocument(append(dst, clsArray), bson.Raw(v.Value), false)
	case bson.TypeBinary:
		sub, data, ok := v.BinaryOK()
		if !ok {
			return nil, fmt.Errorf("key: malformed binary")
		}
		// MongoDB orders BinData by length, then subtype, then bytes.
		dst = binary.BigEndian.AppendUint32(append(dst, clsBinary), uint32(len(data)))
		return append(append(dst, sub), data...), nil
	case bson.TypeObjectID:
		oid, ok := v.ObjectIDOK()
		if !ok {
			return nil, fmt.Errorf("key: malformed ObjectId")
		}
		return append(append(dst, clsObjectID), oid[:]...), nil
	case bson.TypeBoolean:
		b, ok := v.BooleanOK()
		if !ok {
			return nil, fmt.Errorf("key: malformed bool")
		}
		if b {
			return append(dst, clsBool, 1), nil
		}
		return append(dst, clsBool, 0), nil
	case bson.TypeDateTime:
		ms, ok := v.DateTimeOK()
		if !ok {
			return nil, fmt.Errorf("key: malformed date")
		}
		return binary.BigEndian.AppendUint64(append(dst, clsDate), uint64(ms)^1<<63), nil
	case bson.TypeTimestamp:
		t, i, ok := v.TimestampOK()
		if !ok {
			return nil, fmt.Errorf("key: malformed timestamp")
		}
		return binary.BigEndian.AppendUint64(append(dst, clsTimestamp), uint64(t)<<32|uint64(i)), nil
	case bson.TypeRegex:
		p, o, ok := v.RegexOK()
		if !ok {
			return nil, fmt.Errorf("key: malformed regex")
		}
		return appendEscaped(appendEscaped(append(dst, clsRegex), p), o), nil
	case bson.TypeDBPointer:
		ns, oid, ok := v.DBPointerOK()
		if !ok {
			return nil, fmt.Errorf("key: malformed DBPointer")
		}
		return append(appendEscaped(append(dst, clsDBPointer), ns), oid[:]...), nil
	case bson.TypeJavaScript:
		code, ok := v.JavaScriptOK()
		if !ok {
			return nil, fmt.Errorf("key: malformed JavaScript")
		}
		return appendEscaped(append(dst, clsJavaScript), code), nil
	case bson.TypeCodeWithScope:
		code, scope, ok := v.CodeWithScopeOK()
		if !ok {
			return nil, fmt.Errorf("key: malformed code with scope")
		}
		return appendDocument(appendEscaped(append(dst, clsCodeScope), code), scope, true)
	default:
		return nil, fmt.Errorf("key: unsupported BSON type %#x", byte(v.Type))
	}
}

// appendDocument encodes elements as (type class, [escaped name], value) and ends with clsEnd,
// which sorts below every class: MongoDB compares objects field by field (type, name, value) and
// a prefix first. Arrays compare by position only, so their names are left out.
func appendDocument(dst []byte, doc bson.Raw, withNames bool) ([]byte, error) {
	elems, err := doc.Elements()
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	for _, e := range elems {
		v := e.Value()
		start := len(dst)
		if dst, err = appendValue(dst, v); err != nil {
			return nil, err
		}
		if withNames {
			// Move the name between the class byte and the value body.
			body := append([]byte(nil), dst[start+1:]...)
			dst = appendEscaped(dst[:start+1], e.Key())
			dst = append(dst, body...)
		}
	}
	return append(dst, clsEnd), nil
}

func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0, 0xff)
			continue
		}
		dst = append(dst, s[i])
	}
	return append(dst, 0, 1)
}

// appendNumber writes floorDouble(x) in order-preserving form and the integer remainder.
func appendNumber(dst []byte, v bson.RawValue) ([]byte, error) {
	var f float64
	var rem uint16
	switch v.Type {
	case bson.TypeInt32:
		f = float64(v.Int32())
	case bson.TypeInt64:
		f, rem = floorInt64(v.Int64())
	case bson.TypeDouble:
		f = v.Double()
	case bson.TypeDecimal128:
		d, ok := v.Decimal128OK()
		if !ok {
			return nil, fmt.Errorf("key: malformed decimal128")
		}
		var err error
		if f, err = strconv.ParseFloat(d.String(), 64); err != nil && !math.IsInf(f, 0) {
			return nil, fmt.Errorf("key: decimal128 %s: %w", d, err)
		}
	}
	dst = binary.BigEndian.AppendUint64(dst, sortableFloat(f))
	return binary.BigEndian.AppendUint16(dst, rem), nil
}

// floorInt64 returns the largest double d <= i and i-d (< 2^10 for every int64).
func floorInt64(i int64) (float64, uint16) {
	d := float64(i) // round to nearest: may be above i
	if d >= math.MaxInt64 || int64(d) > i {
		d = math.Nextafter(d, math.Inf(-1))
	}
	return d, uint16(i - int64(d))
}

// sortableFloat maps doubles to uint64 in numeric order; NaN sorts below -Inf (as in MongoDB)
// and -0 equals 0.
func sortableFloat(f float64) uint64 {
	if math.IsNaN(f) {
		return 0
	}
	if f == 0 {
		f = 0 // -0 -> +0
	}
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}
