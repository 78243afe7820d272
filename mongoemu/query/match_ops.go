package query

import (
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// parseOps parses an operator document such as {$gt: 1, $lt: 5}; all its
// predicates must hold.
func parseOps(doc []byte, depth int) ([]pred, error) {
	if depth > maxFilterDepth {
		return nil, mongoerr.New(mongoerr.BadValue, "exceeded depth limit of %d when parsing filter", maxFilterDepth)
	}
	var preds []pred
	// $regex and $options are one operator split over two fields.
	re, hasRe := lookupField(doc, "$regex")
	opts, hasOpts := lookupField(doc, "$options")
	if hasOpts && !hasRe {
		return nil, mongoerr.New(mongoerr.BadValue, "$options needs a $regex")
	}
	if hasRe {
		p, err := parseRegexOp(re, opts, hasOpts)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
	it := iterDoc(doc)
	for {
		k, v, _, ok := it.next()
		if !ok {
			return preds, nil
		}
		op := string(k)
		if op == "$regex" || op == "$options" {
			continue
		}
		p, err := parseOp(op, v, depth)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
}

func parseRegexOp(re, opts bson.RawValue, hasOpts bool) (pred, error) {
	var pattern, options string
	switch re.Type {
	case bson.TypeString, bson.TypeSymbol:
		pattern = strOf(re)
	case bson.TypeRegex:
		pattern, options = regexOf(re)
	default:
		return pred{}, mongoerr.New(mongoerr.BadValue, "$regex has to be a string")
	}
	if hasOpts {
		if opts.Type != bson.TypeString {
			return pred{}, mongoerr.New(mongoerr.BadValue, "$options has to be a string")
		}
		if options != "" && strOf(opts) != "" {
			return pred{}, mongoerr.New(mongoerr.BadValue, "options set in both $regex and $options")
		}
		if options == "" {
			options = strOf(opts)
		}
	}
	return regexPred(pattern, options)
}

// cmpKind maps the comparison operators to their predicate kinds.
func cmpKind(op string) (predKind, bool) {
	switch op {
	case "$eq":
		return pEq, true
	case "$ne":
		return pNe, true
	case "$gt":
		return pGt, true
	case "$gte":
		return pGte, true
	case "$lt":
		return pLt, true
	case "$lte":
		return pLte, true
	}
	return 0, false
}

func parseOp(op string, v bson.RawValue, depth int) (pred, error) {
	if k, ok := cmpKind(op); ok {
		if k == pNe && v.Type == bson.TypeRegex {
			return pred{}, mongoerr.New(mongoerr.BadValue, "Can't have regex as arg to $ne.")
		}
		return pred{kind: k, v: v}, nil
	}
	switch op {
	case "$in", "$nin":
		return parseIn(op, v)
	case "$exists":
		return pred{kind: pExists, exists: truthy(v)}, nil
	case "$type":
		return parseType(v)
	case "$size":
		return parseSize(v)
	case "$all":
		return parseAll(v, depth)
	case "$elemMatch":
		return parseElemMatch(v, depth)
	case "$mod":
		return parseMod(v)
	case "$not":
		return parseNot(v, depth)
	case "$near", "$nearSphere", "$geoWithin", "$geoIntersects", "$within", "$bitsAllSet",
		"$bitsAllClear", "$bitsAnySet", "$bitsAnyClear", "$jsonSchema", "$text", "$expr":
		return pred{}, mongoerr.New(mongoerr.BadValue, "%s is not supported by mongoemu", op)
	}
	return pred{}, mongoerr.New(mongoerr.BadValue, "unknown operator: %s", op)
}

// truthy is BSON truthiness as mongod applies it to flags like $exists.
func truthy(v bson.RawValue) bool {
	switch v.Type {
	case 0, bson.TypeNull, bson.TypeUndefined:
		return false
	case bson.TypeBoolean:
		return len(v.Value) > 0 && v.Value[0] != 0
	case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble, bson.TypeDecimal128:
		return Compare(v, int32Val(0)) != 0
	}
	return true
}

func parseIn(op string, v bson.RawValue) (pred, error) {
	if v.Type != bson.TypeArray {
		return pred{}, mongoerr.New(mongoerr.BadValue, "%s needs an array", op)
	}
	p := pred{kind: pIn}
	if op == "$nin" {
		p.kind = pNin
	}
	for _, e := range values(v.Value) {
		switch {
		case e.Type == bson.TypeRegex:
			rp, err := regexPred(regexOf(e))
			if err != nil {
				return p, err
			}
			p.res = append(p.res, rp.res[0])
		case isOperatorDoc(e):
			return p, mongoerr.New(mongoerr.BadValue, "cannot nest $ under %s", op)
		default:
			p.list = append(p.list, e)
		}
	}
	return p, nil
}

// typeByAlias resolves a $type string name; "number" maps to 0.
func typeByAlias(s string) (bson.Type, bool) {
	if s == "number" {
		return 0, true
	}
	for t, n := range typeNames {
		if n == s {
			return t, true
		}
	}
	return 0, false
}

func parseType(v bson.RawValue) (pred, error) {
	p := pred{kind: pType}
	vals := []bson.RawValue{v}
	if v.Type == bson.TypeArray {
		vals = values(v.Value)
	}
	for _, e := range vals {
		switch {
		case e.Type == bson.TypeString:
			t, ok := typeByAlias(strOf(e))
			if !ok {
				return p, mongoerr.New(mongoerr.BadValue, "Unknown type name alias: %s", strOf(e))
			}
			p.types = append(p.types, t)
		case isNumber(e.Type):
			f, _ := numberAsFloat(e)
			t := bson.Type(int64(f))
			if f != math.Trunc(f) || (!t.IsValid() && f != -1) || f < -1 || f > 127 {
				return p, mongoerr.New(mongoerr.BadValue, "Invalid numerical type code: %s", fmtValue(e))
			}
			if f == -1 {
				t = bson.TypeMinKey
			}
			p.types = append(p.types, t)
		default:
			return p, mongoerr.New(mongoerr.TypeMismatch, "type must be represented as a number or a string")
		}
	}
	return p, nil
}

func parseSize(v bson.RawValue) (pred, error) {
	f, ok := numberAsFloat(v)
	switch {
	case !ok:
		return pred{}, mongoerr.New(mongoerr.BadValue, "$size needs a number")
	case f != math.Trunc(f):
		return pred{}, mongoerr.New(mongoerr.BadValue, "$size must be a whole number")
	case f < 0:
		return pred{}, mongoerr.New(mongoerr.BadValue, "$size may not be negative")
	}
	return pred{kind: pSize, n: int64(f)}, nil
}

func parseAll(v bson.RawValue, depth int) (pred, error) {
	if v.Type != bson.TypeArray {
		return pred{}, mongoerr.New(mongoerr.BadValue, "$all needs an array")
	}
	p := pred{kind: pAll}
	for _, e := range values(v.Value) {
		switch {
		case e.Type == bson.TypeRegex:
			rp, err := regexPred(regexOf(e))
			if err != nil {
				return p, err
			}
			p.subs = append(p.subs, rp)
		case isOperatorDoc(e):
			em, ok := lookupField(e.Value, "$elemMatch")
			if !ok {
				return p, mongoerr.New(mongoerr.BadValue, "no $ expressions in $all")
			}
			sp, err := parseElemMatch(em, depth)
			if err != nil {
				return p, err
			}
			p.subs = append(p.subs, sp)
		default:
			p.subs = append(p.subs, pred{kind: pEq, v: e})
		}
	}
	return p, nil
}

func parseElemMatch(v bson.RawValue, depth int) (pred, error) {
	if v.Type != bson.TypeEmbeddedDocument {
		return pred{}, mongoerr.New(mongoerr.BadValue, "$elemMatch needs an Object")
	}
	// The value form ({$elemMatch: {$gt: 1}}) applies operators to each
	// element; the object form ({$elemMatch: {a: 1}}) is a sub-filter.
	if isOperatorDoc(v) {
		it := iterDoc(v.Value)
		k, _, _, _ := it.next()
		switch string(k) {
		case "$and", "$or", "$nor", "$where", "$expr", "$text", "$comment", "$alwaysTrue", "$alwaysFalse":
		default:
			subs, err := parseOps(v.Value, depth+1)
			return pred{kind: pElemMatchVal, subs: subs}, err
		}
	}
	sub, err := parseAnd(v.Value, depth+1)
	return pred{kind: pElemMatchObj, sub: &sub}, err
}

func parseMod(v bson.RawValue) (pred, error) {
	if v.Type != bson.TypeArray {
		return pred{}, mongoerr.New(mongoerr.BadValue, "malformed mod, needs to be an array")
	}
	args := values(v.Value)
	switch {
	case len(args) < 2:
		return pred{}, mongoerr.New(mongoerr.BadValue, "malformed mod, not enough elements")
	case len(args) > 2:
		return pred{}, mongoerr.New(mongoerr.BadValue, "malformed mod, too many elements")
	}
	d, ok1 := numberAsFloat(args[0])
	r, ok2 := numberAsFloat(args[1])
	switch {
	case !ok1:
		return pred{}, mongoerr.New(mongoerr.BadValue, "malformed mod, divisor not a number")
	case !ok2:
		return pred{}, mongoerr.New(mongoerr.BadValue, "malformed mod, remainder not a number")
	case math.IsNaN(d) || math.IsInf(d, 0):
		return pred{}, mongoerr.New(mongoerr.BadValue, "malformed mod, divisor value is invalid :: caused by :: Unable to coerce NaN/Inf to integral type")
	case math.IsNaN(r) || math.IsInf(r, 0):
		return pred{}, mongoerr.New(mongoerr.BadValue, "malformed mod, remainder value is invalid :: caused by :: Unable to coerce NaN/Inf to integral type")
	case int64(d) == 0:
		return pred{}, mongoerr.New(mongoerr.BadValue, "divisor cannot be 0")
	}
	return pred{kind: pMod, n: int64(d), rem: int64(r)}, nil
}

func parseNot(v bson.RawValue, depth int) (pred, error) {
	switch v.Type {
	case bson.TypeRegex:
		rp, err := regexPred(regexOf(v))
		return pred{kind: pNot, subs: []pred{rp}}, err
	case bson.TypeEmbeddedDocument:
		if len(values(v.Value)) == 0 {
			return pred{}, mongoerr.New(mongoerr.BadValue, "$not cannot be empty")
		}
		subs, err := parseOps(v.Value, depth+1)
		return pred{kind: pNot, subs: subs}, err
	}
	return pred{}, mongoerr.New(mongoerr.BadValue, "$not needs a regex or a document")
}

// numberAsFloat reads any numeric type as float64.
func numberAsFloat(v bson.RawValue) (float64, bool) {
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64:
		return float64(intOf(v)), true
	case bson.TypeDouble:
		return readF64(v.Value), true
	case bson.TypeDecimal128:
		e := toExact(v)
		switch e.special {
		case -2:
			return math.NaN(), true
		case 0:
			f, _ := e.r.Float64()
			return f, true
		}
		return math.Inf(e.special), true
	}
	return 0, false
}
