package query

import (
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// typeNames are mongod's type names ($type aliases and error messages).
// It is a read-only table.
var typeNames = map[bson.Type]string{
	bson.TypeDouble: "double", bson.TypeString: "string", bson.TypeEmbeddedDocument: "object",
	bson.TypeArray: "array", bson.TypeBinary: "binData", bson.TypeUndefined: "undefined",
	bson.TypeObjectID: "objectId", bson.TypeBoolean: "bool", bson.TypeDateTime: "date",
	bson.TypeNull: "null", bson.TypeRegex: "regex", bson.TypeDBPointer: "dbPointer",
	bson.TypeJavaScript: "javascript", bson.TypeSymbol: "symbol",
	bson.TypeCodeWithScope: "javascriptWithScope", bson.TypeInt32: "int",
	bson.TypeTimestamp: "timestamp", bson.TypeInt64: "long", bson.TypeDecimal128: "decimal",
	bson.TypeMinKey: "minKey", bson.TypeMaxKey: "maxKey",
}

func typeName(t bson.Type) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "missing"
}

// fmtValue renders a value the way mongod's error messages do ({_id: 1}).
func fmtValue(v bson.RawValue) string {
	var sb strings.Builder
	writeValue(&sb, v, 0)
	return sb.String()
}

func writeValue(sb *strings.Builder, v bson.RawValue, depth int) {
	if depth > 20 {
		sb.WriteString("...")
		return
	}
	switch v.Type {
	case bson.TypeInt32:
		sb.WriteString(strconv.Itoa(int(readI32(v.Value))))
	case bson.TypeInt64:
		sb.WriteString(strconv.FormatInt(readI64(v.Value), 10))
	case bson.TypeDouble:
		f := readF64(v.Value)
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if f == math.Trunc(f) && !strings.ContainsAny(s, "eEIN") {
			s += ".0"
		}
		sb.WriteString(s)
	case bson.TypeString, bson.TypeSymbol:
		sb.WriteString(strconv.Quote(strOf(v)))
	case bson.TypeNull:
		sb.WriteString("null")
	case bson.TypeBoolean:
		sb.WriteString(strconv.FormatBool(len(v.Value) > 0 && v.Value[0] != 0))
	case bson.TypeObjectID:
		var oid bson.ObjectID
		copy(oid[:], v.Value)
		sb.WriteString("ObjectId('")
		sb.WriteString(oid.Hex())
		sb.WriteString("')")
	case bson.TypeEmbeddedDocument, bson.TypeArray:
		open, closing := "{", "}"
		if v.Type == bson.TypeArray {
			open, closing = "[", "]"
		}
		sb.WriteString(open)
		it := iterDoc(v.Value)
		for i := 0; ; i++ {
			k, e, _, ok := it.next()
			if !ok {
				break
			}
			if i > 0 {
				sb.WriteString(", ")
			}
			if v.Type == bson.TypeEmbeddedDocument {
				sb.Write(k)
				sb.WriteString(": ")
			}
			writeValue(sb, e, depth+1)
		}
		sb.WriteString(closing)
	default:
		sb.WriteString(v.String())
	}
}
