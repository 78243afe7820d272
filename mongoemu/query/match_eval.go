package query

import (
	"math"
	"regexp"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func (n *node) match(doc []byte) bool {
	switch n.kind {
	case nAnd:
		for i := range n.kids {
			if !n.kids[i].match(doc) {
				return false
			}
		}
		return true
	case nOr:
		for i := range n.kids {
			if n.kids[i].match(doc) {
				return true
			}
		}
		return false
	case nNor:
		for i := range n.kids {
			if n.kids[i].match(doc) {
				return false
			}
		}
		return true
	case nPath:
		// Paths that only cross documents reach at most one value: resolve
		// them without the general walk, whose result slice escapes to the
		// heap, so the common filters ({_id: v}, {"a.b": v}) do not allocate.
		var one [1]bson.RawValue
		var vals []bson.RawValue
		if v, simple := docOnlyLookup(doc, n.parts); simple {
			one[0] = v
			vals = one[:]
		} else {
			vals = walkDoc(doc, n.parts, nil)
		}
		for i := range n.preds {
			if !n.preds[i].match(vals, true) {
				return false
			}
		}
		return true
	}
	return false
}

// match applies the predicate to the values a path reached. expand makes a
// leaf array stand for itself and for each of its elements, as in find
// filters; $elemMatch's value form passes each element without expansion.
func (p *pred) match(vals []bson.RawValue, expand bool) bool {
	switch p.kind {
	case pNe, pNin:
		return !p.anySingle(vals, expand)
	case pNot:
		for i := range p.subs {
			if !p.subs[i].match(vals, expand) {
				return true
			}
		}
		return false
	case pAll:
		for i := range p.subs {
			if !p.subs[i].match(vals, expand) {
				return false
			}
		}
		return len(p.subs) > 0
	case pExists:
		for _, c := range vals {
			if c.Type != 0 {
				return p.exists
			}
		}
		return !p.exists
	case pSize, pElemMatchObj, pElemMatchVal:
		for _, c := range vals {
			if c.Type == bson.TypeArray && p.matchArray(c) {
				return true
			}
		}
		return false
	}
	return p.anySingle(vals, expand)
}

// anySingle reports whether single holds for some value (or, with expand,
// some element of a leaf array).
func (p *pred) anySingle(vals []bson.RawValue, expand bool) bool {
	for _, c := range vals {
		if p.single(c) {
			return true
		}
		if expand && c.Type == bson.TypeArray {
			it := iterDoc(c.Value)
			for {
				_, e, _, ok := it.next()
				if !ok {
					break
				}
				if p.single(e) {
					return true
				}
			}
		}
	}
	return false
}

// matchArray applies the array operators to an array value.
func (p *pred) matchArray(arr bson.RawValue) bool {
	it := iterDoc(arr.Value)
	var count int64
	for {
		_, e, _, ok := it.next()
		if !ok {
			break
		}
		count++
		switch p.kind {
		case pElemMatchObj:
			if (e.Type == bson.TypeEmbeddedDocument || e.Type == bson.TypeArray) && p.sub.match(e.Value) {
				return true
			}
		case pElemMatchVal:
			one := [1]bson.RawValue{e}
			all := true
			for i := range p.subs {
				if !p.subs[i].match(one[:], false) {
					all = false
					break
				}
			}
			if all {
				return true
			}
		}
	}
	return p.kind == pSize && count == p.n
}

// single applies a per-value operator to one value (type 0 = missing).
func (p *pred) single(x bson.RawValue) bool {
	switch p.kind {
	case pEq, pNe:
		return eqValue(x, p.v)
	case pIn, pNin:
		for _, v := range p.list {
			if eqValue(x, v) {
				return true
			}
		}
		return len(p.res) > 0 && regexMatch(p.res, x, missing)
	case pGt, pGte, pLt, pLte:
		return p.compare(x)
	case pType:
		if x.Type == 0 {
			return false
		}
		for _, t := range p.types {
			if t == x.Type || (t == 0 && isNumber(x.Type)) {
				return true
			}
		}
		return false
	case pRegex:
		return regexMatch(p.res, x, p.v)
	case pMod:
		f, ok := numberAsFloat(x)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
		var i int64
		if x.Type == bson.TypeInt32 || x.Type == bson.TypeInt64 {
			i = intOf(x) // exact beyond 2^53
		} else {
			i = int64(f)
		}
		return i%p.n == p.rem
	}
	return false
}

// eqValue is equality as filters see it: null also matches missing and undefined.
func eqValue(x, v bson.RawValue) bool {
	if v.Type == bson.TypeNull {
		return x.Type == 0 || x.Type == bson.TypeNull || x.Type == bson.TypeUndefined
	}
	return x.Type != 0 && Equal(x, v)
}

// regexMatch matches strings and symbols against res; a regex value equal
// to self (the filter's own regex) matches too, as in mongod.
func regexMatch(res []*regexp.Regexp, x, self bson.RawValue) bool {
	switch x.Type {
	case bson.TypeString, bson.TypeSymbol:
		s := strBytes(x)
		for _, re := range res {
			if re.Match(s) {
				return true
			}
		}
	case bson.TypeRegex:
		return self.Type == bson.TypeRegex && Equal(x, self)
	}
	return false
}

// compare implements $gt/$gte/$lt/$lte with mongod's type bracketing:
// values of different canonical types never match, except that MinKey and
// MaxKey bound everything and missing counts as null.
func (p *pred) compare(x bson.RawValue) bool {
	if x.Type == 0 || x.Type == bson.TypeUndefined {
		x = nullVal()
	}
	if canonical(x.Type) != canonical(p.v.Type) {
		switch p.v.Type {
		case bson.TypeMinKey:
			return p.kind == pGt || p.kind == pGte
		case bson.TypeMaxKey:
			return p.kind == pLt || p.kind == pLte
		}
		return false
	}
	if isNaN(x) || isNaN(p.v) {
		return (p.kind == pGte || p.kind == pLte) && isNaN(x) && isNaN(p.v)
	}
	c := Compare(x, p.v)
	switch p.kind {
	case pGt:
		return c > 0
	case pGte:
		return c >= 0
	case pLt:
		return c < 0
	}
	return c <= 0
}

func isNaN(v bson.RawValue) bool {
	switch v.Type {
	case bson.TypeDouble:
		return math.IsNaN(readF64(v.Value))
	case bson.TypeDecimal128:
		return decimalOf(v).IsNaN()
	}
	return false
}
