package query

import (
	"bytes"
	"math"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// parsePush reads $push / $addToSet arguments: a value, or {$each: [...]}
// with, for $push, the $slice, $sort and $position modifiers.
func (o *updateOp) parsePush() error {
	if o.arg.Type != bson.TypeEmbeddedDocument {
		o.each = []bson.RawValue{o.arg}
		return nil
	}
	each, ok := lookupField(o.arg.Value, "$each")
	if !ok {
		o.each = []bson.RawValue{o.arg}
		return nil
	}
	if each.Type != bson.TypeArray {
		return mongoerr.New(mongoerr.BadValue, "The argument to $each in %s must be an array but it was of type: %s", o.op, typeName(each.Type))
	}
	o.each = values(each.Value)
	it := iterDoc(o.arg.Value)
	for {
		k, v, _, ok := it.next()
		if !ok {
			return nil
		}
		key := string(k)
		if o.op == "$addToSet" && key != "$each" {
			return mongoerr.New(mongoerr.BadValue, "Found unexpected fields after $each in $addToSet: %s", fmtValue(o.arg))
		}
		switch key {
		case "$each":
		case "$slice", "$position":
			f, ok := numberAsFloat(v)
			if !ok || f != math.Trunc(f) || math.IsInf(f, 0) {
				return mongoerr.New(mongoerr.BadValue, "The value for %s must be an integer value but was given type: %s", key, typeName(v.Type))
			}
			n := int64(f)
			if key == "$slice" {
				o.slice = &n
			} else {
				o.position = &n
			}
		case "$sort":
			if err := o.parsePushSort(v); err != nil {
				return err
			}
		default:
			return mongoerr.New(mongoerr.BadValue, "Unrecognized clause in $push: %s", key)
		}
	}
}

func (o *updateOp) parsePushSort(v bson.RawValue) error {
	bad := mongoerr.New(mongoerr.BadValue, "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields")
	if f, ok := numberAsFloat(v); ok {
		if f != 1 && f != -1 {
			return bad
		}
		o.sort, o.sortDesc = &Sort{}, f == -1
		return nil
	}
	if v.Type != bson.TypeEmbeddedDocument {
		return bad
	}
	s, err := NewSort(v.Value)
	if err != nil || len(s.keys) == 0 {
		return bad
	}
	o.sort = s
	return nil
}

// parsePull reads a $pull condition: an operator document applied to each
// element ({$gte: 6}), a sub-filter for document elements ({a: 1}), a
// regex, or a value compared for equality.
func (o *updateOp) parsePull() error {
	switch {
	case isOperatorDoc(o.arg):
		subs, err := parseOps(o.arg.Value, 0)
		o.pull = &pred{kind: pElemMatchVal, subs: subs}
		return err
	case o.arg.Type == bson.TypeEmbeddedDocument:
		sub, err := parseAnd(o.arg.Value, 0)
		o.pull = &pred{kind: pElemMatchObj, sub: &sub}
		return err
	case o.arg.Type == bson.TypeRegex:
		p, err := regexPred(regexOf(o.arg))
		o.pull = &p
		return err
	}
	o.pull = &pred{kind: pEq, v: o.arg}
	return nil
}

// pulls reports whether a $pull condition removes element e.
func (o *updateOp) pulls(e bson.RawValue) bool {
	p := o.pull
	switch p.kind {
	case pElemMatchObj:
		return e.Type == bson.TypeEmbeddedDocument && p.sub.match(e.Value)
	case pElemMatchVal:
		one := [1]bson.RawValue{e}
		for i := range p.subs {
			if !p.subs[i].match(one[:], false) {
				return false
			}
		}
		return true
	case pEq:
		return e.Type != 0 && Equal(e, p.v)
	}
	return p.single(e)
}

// arrayEdit implements $push, $addToSet, $pull, $pullAll and $pop.
func (o *updateOp) arrayEdit(old bson.RawValue, exists bool, ctx *applyCtx) (edit, error) {
	field := o.parts[len(o.parts)-1]
	if exists && old.Type != bson.TypeArray {
		switch o.op {
		case "$push":
			return edit{}, mongoerr.New(mongoerr.BadValue, "The field '%s' must be an array but is of type %s in document %s", field, typeName(old.Type), ctx.idDoc())
		case "$addToSet":
			return edit{}, mongoerr.New(mongoerr.BadValue, "Cannot apply $addToSet to non-array field. Field named '%s' has non-array type %s", field, typeName(old.Type))
		case "$pop":
			return edit{}, mongoerr.New(mongoerr.TypeMismatch, "Path '%s' contains an element of non-array type '%s'", o.path(), typeName(old.Type))
		}
		return edit{}, mongoerr.New(mongoerr.BadValue, "Cannot apply %s to a non-array value", o.op)
	}
	var elems []bson.RawValue
	if exists {
		elems = values(old.Value)
	}
	switch o.op {
	case "$push":
		elems = o.push(elems)
	case "$addToSet":
		for _, e := range o.each {
			if !slices.ContainsFunc(elems, func(x bson.RawValue) bool { return Equal(x, e) }) {
				elems = append(elems, e)
			}
		}
	case "$pull":
		elems = slices.DeleteFunc(elems, o.pulls)
	case "$pullAll":
		elems = slices.DeleteFunc(elems, func(x bson.RawValue) bool {
			return slices.ContainsFunc(o.each, func(e bson.RawValue) bool { return Equal(x, e) })
		})
	case "$pop":
		if len(elems) == 0 {
			return edit{}, nil
		}
		if f, _ := numberAsFloat(o.arg); f == 1 {
			elems = elems[:len(elems)-1]
		} else {
			elems = elems[1:]
		}
	}
	if !exists && (o.op == "$pull" || o.op == "$pullAll" || o.op == "$pop") {
		return edit{}, nil
	}
	v := arrayVal(elems)
	if exists && bytes.Equal(v.Value, old.Value) {
		return edit{}, nil
	}
	return edit{act: setIt, v: v}, nil
}

// push inserts $each at $position, then applies $sort and $slice, in
// mongod's order.
func (o *updateOp) push(elems []bson.RawValue) []bson.RawValue {
	pos := len(elems)
	if o.position != nil {
		p := *o.position
		if p < 0 {
			p += int64(len(elems))
		}
		pos = int(max(0, min(p, int64(len(elems)))))
	}
	elems = slices.Insert(elems, pos, o.each...)
	if o.sort != nil {
		slices.SortStableFunc(elems, func(a, b bson.RawValue) int {
			if len(o.sort.keys) == 0 {
				if o.sortDesc {
					return Compare(b, a)
				}
				return Compare(a, b)
			}
			return o.sort.compareValues(a, b)
		})
	}
	if o.slice != nil {
		n := *o.slice
		switch {
		case n >= 0 && n < int64(len(elems)):
			elems = elems[:n]
		case n < 0 && -n < int64(len(elems)):
			elems = elems[int64(len(elems))+n:]
		}
	}
	return elems
}
