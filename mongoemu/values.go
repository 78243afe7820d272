package mongoemu

import (
	"math"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func numberAsInt64(v bson.RawValue) (int64, bool) {
	switch v.Type {
	case bson.TypeInt32:
		return int64(v.Int32()), true
	case bson.TypeInt64:
		return v.Int64(), true
	case bson.TypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		return int64(f), true
	case bson.TypeDecimal128:
		d := v.Decimal128()
		f, err := decimalToFloat(d)
		if err != nil {
			return 0, false
		}
		return int64(f), true
	}
	return 0, false
}

func numberAsFloat(v bson.RawValue) (float64, bool) {
	switch v.Type {
	case bson.TypeInt32:
		return float64(v.Int32()), true
	case bson.TypeInt64:
		return float64(v.Int64()), true
	case bson.TypeDouble:
		return v.Double(), true
	case bson.TypeDecimal128:
		f, err := decimalToFloat(v.Decimal128())
		return f, err == nil
	}
	return 0, false
}

func decimalToFloat(d bson.Decimal128) (float64, error) {
	return strconv.ParseFloat(d.String(), 64)
}

// typeName is the BSON type alias mongod uses in messages ("string", "int", "object"...).
func typeName(t bson.Type) string {
	switch t {
	case bson.TypeDouble:
		return "double"
	case bson.TypeString:
		return "string"
	case bson.TypeEmbeddedDocument:
		return "object"
	case bson.TypeArray:
		return "array"
	case bson.TypeBinary:
		return "binData"
	case bson.TypeUndefined:
		return "undefined"
	case bson.TypeObjectID:
		return "objectId"
	case bson.TypeBoolean:
		return "bool"
	case bson.TypeDateTime:
		return "date"
	case bson.TypeNull:
		return "null"
	case bson.TypeRegex:
		return "regex"
	case bson.TypeJavaScript:
		return "javascript"
	case bson.TypeInt32:
		return "int"
	case bson.TypeTimestamp:
		return "timestamp"
	case bson.TypeInt64:
		return "long"
	case bson.TypeDecimal128:
		return "decimal"
	case bson.TypeMinKey:
		return "minKey"
	case bson.TypeMaxKey:
		return "maxKey"
	case 0:
		return "missing"
	}
	return "unknown"
}
