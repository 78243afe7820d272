package query

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The helpers in this file read and write BSON bytes directly. The driver's
// bson.Raw accessors panic on truncated input and bson.Marshal goes through
// reflection; the matcher runs on every document of every scan and the fuzz
// test feeds it arbitrary bytes, so reads here are bounds-checked and never
// panic, and writes append to byte slices.

// missing stands for "no value at this path" (BSON type 0, EOO).
var missing = bson.RawValue{}

// elemIter walks the elements of a BSON document or array without allocating.
type elemIter struct {
	b        []byte
	pos, end int
}

func iterDoc(doc []byte) elemIter {
	if len(doc) < 5 {
		return elemIter{}
	}
	n := int(int32(binary.LittleEndian.Uint32(doc)))
	if n < 5 || n > len(doc) {
		n = len(doc)
	}
	return elemIter{b: doc, pos: 4, end: n - 1}
}

// next returns the next element and its raw bytes (type, key and value);
// ok is false at the end or on malformed input.
func (it *elemIter) next() (key []byte, v bson.RawValue, raw []byte, ok bool) {
	if it.pos >= it.end {
		return nil, missing, nil, false
	}
	start := it.pos
	t := bson.Type(it.b[start])
	z := bytes.IndexByte(it.b[start+1:it.end], 0)
	if z < 0 {
		it.pos = it.end
		return nil, missing, nil, false
	}
	key = it.b[start+1 : start+1+z]
	vs := start + 2 + z
	n := valueSize(t, it.b[vs:it.end])
	if n < 0 {
		it.pos = it.end
		return nil, missing, nil, false
	}
	it.pos = vs + n
	return key, bson.RawValue{Type: t, Value: it.b[vs:it.pos:it.pos]}, it.b[start:it.pos:it.pos], true
}

// valueSize is the byte length of a value of type t at the start of b, or -1.
func valueSize(t bson.Type, b []byte) int {
	n := -1
	switch t {
	case bson.TypeDouble, bson.TypeDateTime, bson.TypeInt64, bson.TypeTimestamp:
		n = 8
	case bson.TypeInt32:
		n = 4
	case bson.TypeDecimal128:
		n = 16
	case bson.TypeObjectID:
		n = 12
	case bson.TypeBoolean:
		n = 1
	case bson.TypeUndefined, bson.TypeNull, bson.TypeMinKey, bson.TypeMaxKey:
		n = 0
	case bson.TypeString, bson.TypeJavaScript, bson.TypeSymbol:
		if l := readI32(b); l >= 1 {
			n = 4 + int(l)
		}
	case bson.TypeEmbeddedDocument, bson.TypeArray, bson.TypeCodeWithScope:
		if l := readI32(b); l >= 5 {
			n = int(l)
		}
	case bson.TypeBinary:
		if l := readI32(b); l >= 0 {
			n = 5 + int(l)
		}
	case bson.TypeDBPointer:
		if l := readI32(b); l >= 1 {
			n = 4 + int(l) + 12
		}
	case bson.TypeRegex:
		p := bytes.IndexByte(b, 0)
		if p >= 0 {
			if o := bytes.IndexByte(b[p+1:], 0); o >= 0 {
				n = p + o + 2
			}
		}
	}
	if n > len(b) {
		return -1
	}
	return n
}

func readI32(b []byte) int32 {
	if len(b) < 4 {
		return 0
	}
	return int32(binary.LittleEndian.Uint32(b))
}

func readI64(b []byte) int64 {
	if len(b) < 8 {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(b))
}

func readF64(b []byte) float64 { return math.Float64frombits(uint64(readI64(b))) }

// strOf returns the text of a string, symbol or JavaScript value.
func strOf(v bson.RawValue) string {
	return string(strBytes(v))
}

// strBytes is strOf without the copy, for the regex hot path.
func strBytes(v bson.RawValue) []byte {
	l := int(readI32(v.Value))
	if l < 1 || 4+l > len(v.Value) {
		return nil
	}
	return v.Value[4 : 4+l-1]
}

// regexOf returns a regex value's pattern and options.
func regexOf(v bson.RawValue) (pattern, options string) {
	p := bytes.IndexByte(v.Value, 0)
	if p < 0 {
		return "", ""
	}
	rest := v.Value[p+1:]
	o := bytes.IndexByte(rest, 0)
	if o < 0 {
		return string(v.Value[:p]), ""
	}
	return string(v.Value[:p]), string(rest[:o])
}

// lookupField finds a top-level field without allocating.
func lookupField(doc []byte, key string) (bson.RawValue, bool) {
	it := iterDoc(doc)
	for {
		k, v, _, ok := it.next()
		if !ok {
			return missing, false
		}
		if string(k) == key {
			return v, true
		}
	}
}

// beginDoc reserves a document's length prefix; endDoc closes it.
func beginDoc(dst []byte) ([]byte, int) { return append(dst, 0, 0, 0, 0), len(dst) }

func endDoc(dst []byte, start int) []byte {
	dst = append(dst, 0)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst
}

func appendElem(dst []byte, key string, v bson.RawValue) []byte {
	dst = append(dst, byte(v.Type))
	dst = append(dst, key...)
	dst = append(dst, 0)
	return append(dst, v.Value...)
}

// Value constructors: small, allocation-light replacements for bson.MarshalValue.

func int32Val(n int32) bson.RawValue {
	return bson.RawValue{Type: bson.TypeInt32, Value: binary.LittleEndian.AppendUint32(nil, uint32(n))}
}

func int64Val(n int64) bson.RawValue {
	return bson.RawValue{Type: bson.TypeInt64, Value: binary.LittleEndian.AppendUint64(nil, uint64(n))}
}

func doubleVal(f float64) bson.RawValue {
	return bson.RawValue{Type: bson.TypeDouble, Value: binary.LittleEndian.AppendUint64(nil, math.Float64bits(f))}
}

func decimalVal(d bson.Decimal128) bson.RawValue {
	h, l := d.GetBytes()
	b := binary.LittleEndian.AppendUint64(nil, l)
	return bson.RawValue{Type: bson.TypeDecimal128, Value: binary.LittleEndian.AppendUint64(b, h)}
}

func stringVal(s string) bson.RawValue {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(s)+1))
	b = append(b, s...)
	return bson.RawValue{Type: bson.TypeString, Value: append(b, 0)}
}

func boolVal(x bool) bson.RawValue {
	if x {
		return bson.RawValue{Type: bson.TypeBoolean, Value: []byte{1}}
	}
	return bson.RawValue{Type: bson.TypeBoolean, Value: []byte{0}}
}

func nullVal() bson.RawValue { return bson.RawValue{Type: bson.TypeNull} }

func dateVal(ms int64) bson.RawValue {
	return bson.RawValue{Type: bson.TypeDateTime, Value: binary.LittleEndian.AppendUint64(nil, uint64(ms))}
}

func timestampVal(t, i uint32) bson.RawValue {
	b := binary.LittleEndian.AppendUint32(nil, i)
	return bson.RawValue{Type: bson.TypeTimestamp, Value: binary.LittleEndian.AppendUint32(b, t)}
}

func docVal(doc []byte) bson.RawValue {
	return bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: doc}
}

// arrayVal builds a BSON array from vals.
func arrayVal(vals []bson.RawValue) bson.RawValue {
	b, start := beginDoc(nil)
	var kb [20]byte
	for i, v := range vals {
		b = append(b, byte(v.Type))
		b = append(b, strconv.AppendInt(kb[:0], int64(i), 10)...)
		b = append(b, 0)
		b = append(b, v.Value...)
	}
	return bson.RawValue{Type: bson.TypeArray, Value: endDoc(b, start)}
}

// values lists the elements of a document or array.
func values(doc []byte) []bson.RawValue {
	var out []bson.RawValue
	it := iterDoc(doc)
	for {
		_, v, _, ok := it.next()
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// emptyDoc is a fresh empty document (a new slice each time: callers may append).
func emptyDoc() bson.Raw { return bson.Raw{5, 0, 0, 0, 0} }
