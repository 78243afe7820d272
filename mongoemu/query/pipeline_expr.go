package query

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// Aggregation expressions, the subset mongoemu evaluates: field paths
// ("$a.b"), $$ROOT / $$CURRENT, $$REMOVE, {$literal: v}, literals, and
// documents and arrays of expressions.

type exprKind uint8

const (
	eLit exprKind = iota
	ePath
	eRoot
	eRemove
	eObj
	eArr
)

type expr struct {
	kind  exprKind
	lit   bson.RawValue
	parts []string
	names []string // eObj field names, parallel to kids
	kids  []expr
}

// Codes mongod uses for bad expressions (no names in mongoerr yet).
const (
	codeInvalidPipelineOperator mongoerr.Code = 168
	codeUndefinedVariable       mongoerr.Code = 17276
	codeBadFieldPath            mongoerr.Code = 16872
)

func parseExpr(v bson.RawValue, depth int) (expr, error) {
	if depth > maxFilterDepth {
		return expr{}, mongoerr.New(mongoerr.BadValue, "expression nested too deeply")
	}
	switch v.Type {
	case bson.TypeString:
		s := strOf(v)
		if !strings.HasPrefix(s, "$") {
			return expr{kind: eLit, lit: v}, nil
		}
		return parseFieldPath(s)
	case bson.TypeArray:
		e := expr{kind: eArr}
		for _, x := range values(v.Value) {
			k, err := parseExpr(x, depth+1)
			if err != nil {
				return e, err
			}
			e.kids = append(e.kids, k)
		}
		return e, nil
	case bson.TypeEmbeddedDocument:
		if isOperatorDoc(v) {
			it := iterDoc(v.Value)
			k, arg, _, _ := it.next()
			if string(k) == "$literal" {
				return expr{kind: eLit, lit: arg}, nil
			}
			return expr{}, mongoerr.New(codeInvalidPipelineOperator,
				"Unrecognized expression '%s' (mongoemu evaluates only field paths, $literal and literals)", k)
		}
		e := expr{kind: eObj}
		it := iterDoc(v.Value)
		for {
			k, x, _, ok := it.next()
			if !ok {
				return e, nil
			}
			kid, err := parseExpr(x, depth+1)
			if err != nil {
				return e, err
			}
			e.names = append(e.names, string(k))
			e.kids = append(e.kids, kid)
		}
	}
	return expr{kind: eLit, lit: v}, nil
}

func parseFieldPath(s string) (expr, error) {
	if strings.HasPrefix(s, "$$") {
		name, rest, _ := strings.Cut(s[2:], ".")
		var e expr
		switch name {
		case "ROOT", "CURRENT":
			e.kind = eRoot
		case "REMOVE":
			return expr{kind: eRemove}, nil
		default:
			return e, mongoerr.New(codeUndefinedVariable, "Use of undefined variable: %s", name)
		}
		if rest != "" {
			e.kind, e.parts = ePath, splitPath(rest)
		}
		return e, nil
	}
	if s == "$" {
		return expr{}, mongoerr.New(codeBadFieldPath, "'$' by itself is not a valid FieldPath")
	}
	parts := splitPath(s[1:])
	for _, p := range parts {
		if p == "" {
			return expr{}, mongoerr.New(mongoerr.Code(15998), "FieldPath field names may not be empty strings.")
		}
	}
	return expr{kind: ePath, parts: parts}, nil
}

// eval computes the expression for doc; ok is false when the value is
// missing (a field path that leads nowhere, $$REMOVE).
func (e *expr) eval(doc bson.Raw) (bson.RawValue, bool) {
	switch e.kind {
	case eLit:
		return e.lit, true
	case eRoot:
		return docVal(doc), true
	case ePath:
		return aggPath(doc, e.parts)
	case eObj:
		b, start := beginDoc(nil)
		for i := range e.kids {
			if v, ok := e.kids[i].eval(doc); ok {
				b = appendElem(b, e.names[i], v)
			}
		}
		return docVal(endDoc(b, start)), true
	case eArr:
		vals := make([]bson.RawValue, len(e.kids))
		for i := range e.kids {
			v, ok := e.kids[i].eval(doc)
			if !ok {
				v = nullVal()
			}
			vals[i] = v
		}
		return arrayVal(vals), true
	}
	return missing, false
}

// aggPath evaluates a field path with aggregation semantics, which differ
// from matching: through an array it yields the array of the values found in
// its document elements ({a: [{b: 1}, {b: 2}]} gives [1, 2] for "$a.b").
func aggPath(doc []byte, parts []string) (bson.RawValue, bool) {
	v, ok := lookupField(doc, parts[0])
	if !ok {
		return missing, false
	}
	return aggValue(v, parts[1:])
}

func aggValue(v bson.RawValue, rest []string) (bson.RawValue, bool) {
	if len(rest) == 0 {
		return v, true
	}
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return aggPath(v.Value, rest)
	case bson.TypeArray:
		var out []bson.RawValue
		it := iterDoc(v.Value)
		for {
			_, e, _, ok := it.next()
			if !ok {
				return arrayVal(out), true
			}
			if e.Type == bson.TypeEmbeddedDocument || e.Type == bson.TypeArray {
				if r, ok := aggValue(e, rest); ok {
					out = append(out, r)
				}
			}
		}
	}
	return missing, false
}
