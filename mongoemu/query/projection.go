package query

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// Projection is a compiled find / $project projection: inclusion or
// exclusion of (dotted) fields, with _id included unless {_id: 0}, plus
// computed fields (field paths, $literal, literals) in inclusion mode.
// $slice, $elemMatch, $meta and positional ("a.$") projections are not
// supported. It is immutable.
type Projection struct {
	mode     projMode
	noID     bool
	tree     *projNode
	computed []computedField
}

type projMode uint8

const (
	projNone projMode = iota
	projInclude
	projExclude
)

type projNode struct {
	kids map[string]*projNode
	leaf bool
}

type computedField struct {
	path string
	e    expr
}

// mongod's projection error codes.
const (
	codeInclusionInExclusion mongoerr.Code = 31253
	codeExclusionInInclusion mongoerr.Code = 31254
	codePathCollision        mongoerr.Code = 31250
	codePathCollisionPrefix  mongoerr.Code = 31249
	codeEmptySubProjection   mongoerr.Code = 51270
)

// NewProjection compiles a projection document.
func NewProjection(spec bson.Raw) (*Projection, error) {
	p := &Projection{tree: &projNode{}}
	idSet, idInclude := false, false
	if err := p.parse(spec, "", &idSet, &idInclude); err != nil {
		return nil, err
	}
	if p.mode == projNone && idSet {
		// {_id: 1} alone projects only _id; {_id: 0} alone drops it.
		p.mode = projExclude
		if idInclude {
			p.mode = projInclude
		}
	}
	return p, nil
}

func (p *Projection) parse(spec []byte, prefix string, idSet, idInclude *bool) error {
	it := iterDoc(spec)
	for {
		k, v, _, ok := it.next()
		if !ok {
			return nil
		}
		path := prefix + string(k)
		switch {
		case strings.HasSuffix(path, ".$") || strings.Contains(path, ".$."):
			return mongoerr.New(mongoerr.BadValue, "positional projection ('%s') is not supported by mongoemu", path)
		case v.Type == bson.TypeEmbeddedDocument && !isOperatorDoc(v):
			if len(values(v.Value)) == 0 {
				return mongoerr.New(codeEmptySubProjection, "An empty sub-projection is not a valid value. Found empty object at path")
			}
			if err := p.parse(v.Value, path+".", idSet, idInclude); err != nil {
				return err
			}
			continue
		case v.Type == bson.TypeEmbeddedDocument:
			it2 := iterDoc(v.Value)
			op, _, _, _ := it2.next()
			switch string(op) {
			case "$slice", "$elemMatch", "$meta":
				return mongoerr.New(mongoerr.BadValue, "%s projection is not supported by mongoemu", op)
			}
		}
		include, computed := true, false
		switch {
		case v.Type == bson.TypeBoolean || isNumber(v.Type):
			include = truthy(v)
		default:
			computed = true
		}
		if path == "_id" && !computed {
			*idSet, *idInclude = true, include
			p.noID = !include
			continue
		}
		if err := p.setMode(path, include); err != nil {
			return err
		}
		if computed {
			e, err := parseExpr(v, 0)
			if err != nil {
				return err
			}
			p.computed = append(p.computed, computedField{path: path, e: e})
		}
		if err := p.tree.insert(path); err != nil {
			return err
		}
		if computed { // computed fields are not copied from the input
			p.tree.remove(path)
		}
	}
}

func (p *Projection) setMode(path string, include bool) error {
	want := projExclude
	if include {
		want = projInclude
	}
	switch {
	case p.mode == projNone:
		p.mode = want
	case p.mode == projInclude && !include:
		return mongoerr.New(codeExclusionInInclusion, "Cannot do exclusion on field %s in inclusion projection", path)
	case p.mode == projExclude && include:
		return mongoerr.New(codeInclusionInExclusion, "Cannot do inclusion on field %s in exclusion projection", path)
	}
	return nil
}

func (n *projNode) insert(path string) error {
	parts := splitPath(path)
	for i, part := range parts {
		if n.leaf {
			return mongoerr.New(codePathCollision, "Path collision at %s remaining portion %s", path, strings.Join(parts[i:], "."))
		}
		if n.kids == nil {
			n.kids = map[string]*projNode{}
		}
		next := n.kids[part]
		if next == nil {
			next = &projNode{}
			n.kids[part] = next
		}
		n = next
	}
	if n.leaf || len(n.kids) > 0 {
		return mongoerr.New(codePathCollisionPrefix, "Path collision at %s", path)
	}
	n.leaf = true
	return nil
}

func (n *projNode) remove(path string) {
	parts := splitPath(path)
	for _, part := range parts[:len(parts)-1] {
		n = n.kids[part]
	}
	delete(n.kids, parts[len(parts)-1])
}

// Apply projects doc. Included fields keep their document order and
// computed fields follow them, as in mongod.
func (p *Projection) Apply(doc bson.Raw) bson.Raw {
	switch p.mode {
	case projNone:
		return doc
	case projExclude:
		return p.tree.exclude(doc, p.noID)
	}
	out := p.tree.include(doc, !p.noID)
	for _, c := range p.computed {
		if v, ok := c.e.eval(doc); ok {
			if o, err := SetPath(out, c.path, v); err == nil {
				out = o
			}
		}
	}
	return out
}

func (n *projNode) include(doc []byte, keepID bool) bson.Raw {
	out, start := beginDoc(make([]byte, 0, len(doc)))
	it := iterDoc(doc)
	for {
		k, v, raw, ok := it.next()
		if !ok {
			return endDoc(out, start)
		}
		kid := n.kids[string(k)]
		switch {
		case keepID && string(k) == "_id" && kid == nil:
			out = append(out, raw...)
		case kid == nil:
		case kid.leaf:
			out = append(out, raw...)
		case v.Type == bson.TypeEmbeddedDocument:
			out = appendElem(out, string(k), docVal(kid.include(v.Value, false)))
		case v.Type == bson.TypeArray:
			out = appendElem(out, string(k), kid.includeArray(v))
		}
	}
}

// includeArray applies a sub-projection to each element: documents are
// projected, nested arrays recursed into, scalars dropped (mongod).
func (n *projNode) includeArray(arr bson.RawValue) bson.RawValue {
	var out []bson.RawValue
	for _, e := range values(arr.Value) {
		switch e.Type {
		case bson.TypeEmbeddedDocument:
			out = append(out, docVal(n.include(e.Value, false)))
		case bson.TypeArray:
			out = append(out, n.includeArray(e))
		}
	}
	return arrayVal(out)
}

func (n *projNode) exclude(doc []byte, dropID bool) bson.Raw {
	out, start := beginDoc(make([]byte, 0, len(doc)))
	it := iterDoc(doc)
	for {
		k, v, raw, ok := it.next()
		if !ok {
			return endDoc(out, start)
		}
		kid := n.kids[string(k)]
		switch {
		case dropID && string(k) == "_id":
		case kid == nil:
			out = append(out, raw...)
		case kid.leaf:
		case v.Type == bson.TypeEmbeddedDocument:
			out = appendElem(out, string(k), docVal(kid.exclude(v.Value, false)))
		case v.Type == bson.TypeArray:
			out = appendElem(out, string(k), kid.excludeArray(v))
		default:
			out = append(out, raw...)
		}
	}
}

func (n *projNode) excludeArray(arr bson.RawValue) bson.RawValue {
	vals := values(arr.Value)
	for i, e := range vals {
		switch e.Type {
		case bson.TypeEmbeddedDocument:
			vals[i] = docVal(n.exclude(e.Value, false))
		case bson.TypeArray:
			vals[i] = n.excludeArray(e)
		}
	}
	return arrayVal(vals)
}
