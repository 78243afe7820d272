package query

import (
	"math/big"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// groupSpec is a compiled $group: the _id expression and the accumulators.
type groupSpec struct {
	id   expr
	accs []accumulator
}

type accumulator struct {
	field string
	op    string
	arg   expr
}

// groupState is one group's running values, one accState per accumulator.
type groupState struct {
	id   bson.RawValue
	accs []accState
}

type accState struct {
	sum  bson.RawValue // $sum, $avg: running numeric total
	n    int64         // $avg: count of numbers
	val  bson.RawValue // $min $max $first $last
	set  bool
	list []bson.RawValue // $push, $addToSet
	seen map[string]bool // $addToSet
}

func parseGroup(spec []byte) (*groupSpec, error) {
	g := &groupSpec{}
	idv, ok := lookupField(spec, "_id")
	if !ok {
		return nil, mongoerr.New(mongoerr.Code(15955), "a group specification must include an _id")
	}
	var err error
	if g.id, err = parseExpr(idv, 0); err != nil {
		return nil, err
	}
	it := iterDoc(spec)
	for {
		k, v, _, ok := it.next()
		if !ok {
			return g, nil
		}
		field := string(k)
		if field == "_id" {
			continue
		}
		if containsDot(field) {
			return nil, mongoerr.New(mongoerr.Code(40235), "The field name '%s' cannot contain '.'", field)
		}
		if v.Type != bson.TypeEmbeddedDocument || len(values(v.Value)) != 1 {
			return nil, mongoerr.New(mongoerr.Code(40234), "The field '%s' must be an accumulator object", field)
		}
		it2 := iterDoc(v.Value)
		op, arg, _, _ := it2.next()
		switch string(op) {
		case "$sum", "$avg", "$min", "$max", "$first", "$last", "$push", "$addToSet", "$count":
		default:
			return nil, mongoerr.New(mongoerr.Code(15952), "unknown group operator '%s'", op)
		}
		a := accumulator{field: field, op: string(op)}
		if a.op == "$count" { // {$count: {}} is {$sum: 1}
			a.op, a.arg = "$sum", expr{kind: eLit, lit: int32Val(1)}
		} else if a.arg, err = parseExpr(arg, 0); err != nil {
			return nil, err
		}
		g.accs = append(g.accs, a)
	}
}

// run groups docs; groups come out in order of first appearance (mongod
// does not promise an order; this one is deterministic).
func (g *groupSpec) run(docs []bson.Raw) []bson.Raw {
	index := map[string]int{}
	var groups []*groupState
	for _, d := range docs {
		id, ok := g.id.eval(d)
		if !ok {
			id = nullVal()
		}
		key := EqualityKey(id)
		gi, ok := index[key]
		if !ok {
			gi = len(groups)
			index[key] = gi
			groups = append(groups, &groupState{id: id, accs: make([]accState, len(g.accs))})
		}
		st := groups[gi]
		for i := range g.accs {
			v, ok := g.accs[i].arg.eval(d)
			st.accs[i].add(g.accs[i].op, v, ok)
		}
	}
	out := make([]bson.Raw, 0, len(groups))
	for _, st := range groups {
		b, start := beginDoc(nil)
		b = appendElem(b, "_id", st.id)
		for i := range g.accs {
			b = appendElem(b, g.accs[i].field, st.accs[i].result(g.accs[i].op))
		}
		out = append(out, endDoc(b, start))
	}
	return out
}

func (s *accState) add(op string, v bson.RawValue, present bool) {
	switch op {
	case "$sum", "$avg":
		if !present || !isNumber(v.Type) {
			return
		}
		s.n++
		if !s.set {
			s.sum, s.set = v, true
			return
		}
		r, ok := addNumbers(s.sum, v)
		if !ok { // int64 overflow: $sum continues in double
			x, _ := numberAsFloat(s.sum)
			y, _ := numberAsFloat(v)
			r = doubleVal(x + y)
		}
		s.sum = r
	case "$min", "$max":
		if !present || v.Type == bson.TypeNull || v.Type == bson.TypeUndefined {
			return
		}
		if !s.set || (op == "$min" && Compare(v, s.val) < 0) || (op == "$max" && Compare(v, s.val) > 0) {
			s.val, s.set = v, true
		}
	case "$first", "$last":
		if !present {
			v = nullVal()
		}
		if !s.set || op == "$last" {
			s.val, s.set = v, true
		}
	case "$push", "$addToSet":
		if !present {
			return
		}
		if op == "$addToSet" {
			if s.seen == nil {
				s.seen = map[string]bool{}
			}
			k := EqualityKey(v)
			if s.seen[k] {
				return
			}
			s.seen[k] = true
		}
		s.list = append(s.list, v)
	}
}

func (s *accState) result(op string) bson.RawValue {
	switch op {
	case "$sum":
		if !s.set {
			return int32Val(0)
		}
		return s.sum
	case "$avg":
		if s.n == 0 {
			return nullVal()
		}
		if s.sum.Type == bson.TypeDecimal128 {
			e := toExact(s.sum)
			if e.special != 0 {
				return s.sum
			}
			q := new(big.Float).SetPrec(113).SetRat(e.r.Quo(e.r, new(big.Rat).SetInt64(s.n)))
			if d, err := bson.ParseDecimal128(q.Text('e', 33)); err == nil {
				return decimalVal(d)
			}
		}
		f, _ := numberAsFloat(s.sum)
		return doubleVal(f / float64(s.n))
	case "$push", "$addToSet":
		return arrayVal(s.list)
	}
	if !s.set {
		return nullVal()
	}
	return s.val
}
