package storage

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// formatValue renders a value the way mongod's BSONElement::toString does inside error messages
// such as E11000's "dup key: { _id: ... }": 1, 1.5, 1.0 (integral double), "abc",
// ObjectId('...'), new Date(ms), { a: 1 }, [ 1, 2 ].
func formatValue(v bson.RawValue) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

func writeValue(b *strings.Builder, v bson.RawValue) {
	switch v.Type {
	case bson.TypeInt32:
		b.WriteString(strconv.FormatInt(int64(v.Int32()), 10))
	case bson.TypeInt64:
		b.WriteString(strconv.FormatInt(v.Int64(), 10))
	case bson.TypeDouble:
		f := v.Double()
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			b.WriteString(strconv.FormatFloat(f, 'f', 1, 64))
		} else {
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case bson.TypeDecimal128:
		b.WriteString("NumberDecimal(\"" + v.Decimal128().String() + "\")")
	case bson.TypeString:
		b.WriteString(`"` + v.StringValue() + `"`)
	case bson.TypeSymbol:
		b.WriteString(`"` + v.Symbol() + `"`)
	case bson.TypeObjectID:
		oid := v.ObjectID()
		b.WriteString("ObjectId('" + hex.EncodeToString(oid[:]) + "')")
	case bson.TypeBoolean:
		b.WriteString(strconv.FormatBool(v.Boolean()))
	case bson.TypeNull:
		b.WriteString("null")
	case bson.TypeUndefined:
		b.WriteString("undefined")
	case bson.TypeMinKey:
		b.WriteString("MinKey")
	case bson.TypeMaxKey:
		b.WriteString("MaxKey")
	case bson.TypeDateTime:
		b.WriteString("new Date(" + strconv.FormatInt(v.DateTime(), 10) + ")")
	case bson.TypeTimestamp:
		t, i := v.Timestamp()
		b.WriteString("Timestamp(" + strconv.FormatUint(uint64(t), 10) + ", " +
			strconv.FormatUint(uint64(i), 10) + ")")
	case bson.TypeBinary:
		sub, data := v.Binary()
		if sub == 4 && len(data) == 16 { // mongod prints UUIDs (lsid.id) as UUID("...")
			h := hex.EncodeToString(data)
			b.WriteString(`UUID("` + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] + `")`)
			break
		}
		b.WriteString("BinData(" + strconv.Itoa(int(sub)) + ", " +
			strings.ToUpper(hex.EncodeToString(data)) + ")")
	case bson.TypeEmbeddedDocument, bson.TypeArray:
		writeContainer(b, bson.Raw(v.Value), v.Type == bson.TypeArray)
	default:
		b.WriteString(v.String())
	}
}

func writeContainer(b *strings.Builder, doc bson.Raw, array bool) {
	open, closing := "{", "}"
	if array {
		open, closing = "[", "]"
	}
	elems, err := doc.Elements()
	if err != nil || len(elems) == 0 {
		b.WriteString(open + closing)
		return
	}
	b.WriteString(open + " ")
	for i, e := range elems {
		if i > 0 {
			b.WriteString(", ")
		}
		if !array {
			b.WriteString(e.Key() + ": ")
		}
		writeValue(b, e.Value())
	}
	b.WriteString(" " + closing)
}

// FormatDocument renders a document as mongod's BSONObj::toString does in error messages
// ("not authorized on db to execute command { find: \"c\", ... }").
func FormatDocument(doc bson.Raw) string {
	var b strings.Builder
	writeContainer(&b, doc, false)
	return b.String()
}
