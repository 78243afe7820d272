package query

import (
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// maxFilterDepth bounds nesting like mongod's expression depth limit, so a
// hostile filter cannot exhaust the stack.
const maxFilterDepth = 100

// Matcher is a compiled query filter. It is immutable and safe for
// concurrent use.
type Matcher struct {
	root node
	eqs  []Field
}

// Field is a path and a value, as returned by EqualityFields.
type Field struct {
	Path  string
	Value bson.RawValue
}

type nodeKind uint8

const (
	nAnd nodeKind = iota
	nOr
	nNor
	nPath
	nFalse
)

// node is one clause of the filter tree. Nodes and predicates are concrete
// structs, not interfaces, so matching a simple filter does not allocate.
type node struct {
	kind  nodeKind
	kids  []node
	parts []string
	preds []pred
}

type predKind uint8

const (
	pEq predKind = iota
	pNe
	pGt
	pGte
	pLt
	pLte
	pIn
	pNin
	pExists
	pType
	pSize
	pAll
	pElemMatchObj
	pElemMatchVal
	pRegex
	pMod
	pNot
)

// pred is one operator applied to the values a path reaches.
type pred struct {
	kind   predKind
	v      bson.RawValue
	list   []bson.RawValue  // $in/$nin non-regex values
	res    []*regexp.Regexp // $in/$nin regexes; $regex uses res[0]
	types  []bson.Type      // $type; 0 stands for the "number" alias
	n, rem int64            // $size; $mod divisor and remainder
	exists bool
	sub    *node  // $elemMatch object form
	subs   []pred // $not, $all, $elemMatch value form
}

// NewMatcher compiles a filter document. See the package documentation for
// the supported operators.
func NewMatcher(filter bson.Raw) (*Matcher, error) {
	if len(filter) == 0 {
		filter = emptyDoc()
	}
	if err := filter.Validate(); err != nil {
		return nil, mongoerr.New(mongoerr.BadValue, "invalid BSON in filter: %v", err)
	}
	root, err := parseAnd(filter, 0)
	if err != nil {
		return nil, err
	}
	m := &Matcher{root: root}
	m.eqs = collectEqualities(&m.root, nil)
	return m, nil
}

// Match reports whether doc satisfies the filter.
func (m *Matcher) Match(doc bson.Raw) bool { return m.root.match(doc) }

// IDEquality returns the _id value when the filter pins _id to one value
// ({_id: v}, {_id: {$eq: v}}, possibly beside other clauses or inside a
// top-level $and). Callers may fetch that one document instead of scanning,
// keyed by EqualityKey (so 1 and 1.0 find the same document), and must still
// call Match on it.
func (m *Matcher) IDEquality() (bson.RawValue, bool) {
	for _, f := range m.eqs {
		if f.Path == "_id" {
			return f.Value, true
		}
	}
	return missing, false
}

// EqualityFields returns the equality clauses ({a: v}, {a: {$eq: v}}, also
// inside a top-level $and) in filter order: what mongod copies into the
// document an upsert inserts. Regex values and operator objects are left out.
func (m *Matcher) EqualityFields() []Field { return m.eqs }

func collectEqualities(n *node, out []Field) []Field {
	for i := range n.kids {
		k := &n.kids[i]
		switch k.kind {
		case nAnd:
			out = collectEqualities(k, out)
		case nPath:
			for _, p := range k.preds {
				if p.kind == pEq && p.v.Type != bson.TypeRegex {
					out = append(out, Field{Path: strings.Join(k.parts, "."), Value: p.v})
					break
				}
			}
		}
	}
	return out
}

// parseAnd parses a filter document into an implicit $and of its clauses.
func parseAnd(doc []byte, depth int) (node, error) {
	if depth > maxFilterDepth {
		return node{}, mongoerr.New(mongoerr.BadValue, "exceeded depth limit of %d when parsing filter", maxFilterDepth)
	}
	n := node{kind: nAnd}
	it := iterDoc(doc)
	for {
		k, v, _, ok := it.next()
		if !ok {
			return n, nil
		}
		key := string(k)
		if !strings.HasPrefix(key, "$") {
			kid, err := parsePath(key, v, depth)
			if err != nil {
				return n, err
			}
			n.kids = append(n.kids, kid)
			continue
		}
		switch key {
		case "$and", "$or", "$nor":
			kid, err := parseLogical(key, v, depth)
			if err != nil {
				return n, err
			}
			n.kids = append(n.kids, kid)
		case "$comment":
		case "$alwaysTrue":
		case "$alwaysFalse":
			n.kids = append(n.kids, node{kind: nFalse})
		case "$expr", "$where", "$text", "$jsonSchema", "$sampleRate":
			return n, mongoerr.New(mongoerr.BadValue, "%s is not supported by mongoemu", key)
		default:
			return n, mongoerr.New(mongoerr.BadValue, "unknown top level operator: %s. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.", key)
		}
	}
}

func parseLogical(op string, v bson.RawValue, depth int) (node, error) {
	if v.Type != bson.TypeArray {
		return node{}, mongoerr.New(mongoerr.BadValue, "%s must be an array", op)
	}
	n := node{kind: map[string]nodeKind{"$and": nAnd, "$or": nOr, "$nor": nNor}[op]}
	for _, e := range values(v.Value) {
		if e.Type != bson.TypeEmbeddedDocument {
			return n, mongoerr.New(mongoerr.BadValue, "$or/$and/$nor entries need to be full objects")
		}
		kid, err := parseAnd(e.Value, depth+1)
		if err != nil {
			return n, err
		}
		n.kids = append(n.kids, kid)
	}
	if len(n.kids) == 0 {
		return n, mongoerr.New(mongoerr.BadValue, "$and/$or/$nor must be a nonempty array")
	}
	return n, nil
}

// isOperatorDoc reports whether v is {$op: ...} rather than a document to
// compare for equality; DBRef documents ($ref, $id, $db) are values.
func isOperatorDoc(v bson.RawValue) bool {
	if v.Type != bson.TypeEmbeddedDocument {
		return false
	}
	it := iterDoc(v.Value)
	k, _, _, ok := it.next()
	if !ok || len(k) == 0 || k[0] != '$' {
		return false
	}
	switch string(k) {
	case "$ref", "$id", "$db":
		return false
	}
	return true
}

func parsePath(path string, v bson.RawValue, depth int) (node, error) {
	n := node{kind: nPath, parts: splitPath(path)}
	switch {
	case isOperatorDoc(v):
		preds, err := parseOps(v.Value, depth)
		if err != nil {
			return n, err
		}
		n.preds = preds
	case v.Type == bson.TypeRegex:
		p, err := regexPred(regexOf(v))
		if err != nil {
			return n, err
		}
		n.preds = []pred{p}
	default:
		n.preds = []pred{{kind: pEq, v: v}}
	}
	return n, nil
}

func regexPred(pattern, options string) (pred, error) {
	re, err := compileRegex(pattern, options)
	if err != nil {
		return pred{}, err
	}
	b := append([]byte(pattern), 0)
	b = append(append(b, options...), 0)
	return pred{kind: pRegex, res: []*regexp.Regexp{re}, v: bson.RawValue{Type: bson.TypeRegex, Value: b}}, nil
}
