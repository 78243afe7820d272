package query

import (
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// Pipeline is a compiled aggregation pipeline over the stages mongoemu
// supports: $match $sort $skip $limit $project $unset $count $group
// $addFields/$set $unwind. It is immutable.
type Pipeline struct {
	stages []stage
}

type stage struct {
	name  string
	match *Matcher
	sort  *Sort
	n     int64
	proj  *Projection
	count string
	group *groupSpec
	set   []computedField
	unw   *unwindSpec
}

type unwindSpec struct {
	parts         []string
	path          string
	indexField    string
	preserveEmpty bool
}

// mongod's pipeline error codes.
const (
	codeStageOneField   mongoerr.Code = 40323
	codeUnknownStage    mongoerr.Code = 40324
	codeLimitPositive   mongoerr.Code = 15958
	codeSkipNonNegative mongoerr.Code = 15956
	codeUnwindPath      mongoerr.Code = 28818
	codeCountName       mongoerr.Code = 40156
	codeSortEmpty       mongoerr.Code = 15976
	codeStageSpec       mongoerr.Code = 15969
)

// NewPipeline compiles the stages of an aggregate command.
func NewPipeline(stages []bson.Raw) (*Pipeline, error) {
	p := &Pipeline{}
	for _, raw := range stages {
		if err := raw.Validate(); err != nil {
			return nil, mongoerr.New(mongoerr.FailedToParse, "invalid BSON in pipeline stage: %v", err)
		}
		vals := values(raw)
		if len(vals) != 1 {
			return nil, mongoerr.New(codeStageOneField, "A pipeline stage specification object must contain exactly one field.")
		}
		it := iterDoc(raw)
		k, v, _, _ := it.next()
		st, err := parseStage(string(k), v)
		if err != nil {
			return nil, err
		}
		p.stages = append(p.stages, st)
	}
	return p, nil
}

func parseStage(name string, v bson.RawValue) (stage, error) {
	st := stage{name: name}
	needDoc := func() error {
		if v.Type != bson.TypeEmbeddedDocument {
			return mongoerr.New(codeStageSpec, "%s specification must be an object", name)
		}
		return nil
	}
	var err error
	switch name {
	case "$match":
		if err = needDoc(); err == nil {
			st.match, err = NewMatcher(v.Value)
		}
	case "$sort":
		if err = needDoc(); err == nil {
			if st.sort, err = NewSort(v.Value); err == nil && len(st.sort.keys) == 0 {
				err = mongoerr.New(codeSortEmpty, "$sort stage must have at least one sort key")
			}
		}
	case "$skip", "$limit":
		f, ok := numberAsFloat(v)
		switch {
		case !ok || f != math.Trunc(f) || math.IsInf(f, 0):
			err = mongoerr.New(mongoerr.BadValue, "invalid argument to %s stage: Expected an integer: %s: %s", name, name, fmtValue(v))
		case name == "$limit" && f <= 0:
			err = mongoerr.New(codeLimitPositive, "the limit must be positive")
		case name == "$skip" && f < 0:
			err = mongoerr.New(codeSkipNonNegative, "invalid argument to $skip stage: Expected a non-negative number in: $skip: %s", fmtValue(v))
		}
		st.n = int64(f)
	case "$project":
		if err = needDoc(); err == nil {
			st.proj, err = NewProjection(v.Value)
		}
	case "$unset":
		st.name = "$project"
		st.proj, err = unsetProjection(v)
	case "$count":
		st.count = strOf(v)
		if v.Type != bson.TypeString || st.count == "" || st.count[0] == '$' || containsDot(st.count) {
			err = mongoerr.New(codeCountName, "the count field must be a non-empty string, must not start with '$' and must not contain '.'")
		}
	case "$group":
		if err = needDoc(); err == nil {
			st.group, err = parseGroup(v.Value)
		}
	case "$addFields", "$set":
		st.name = "$addFields"
		if err = needDoc(); err == nil {
			st.set, err = parseAddFields(v.Value)
		}
	case "$unwind":
		st.unw, err = parseUnwind(v)
	default:
		err = mongoerr.New(codeUnknownStage, "Unrecognized pipeline stage name: '%s'", name)
	}
	return st, err
}

func containsDot(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return true
		}
	}
	return false
}

// unsetProjection turns $unset: "a" or ["a", "b"] into an exclusion.
func unsetProjection(v bson.RawValue) (*Projection, error) {
	names := []bson.RawValue{v}
	if v.Type == bson.TypeArray {
		names = values(v.Value)
	}
	b, start := beginDoc(nil)
	for _, n := range names {
		if n.Type != bson.TypeString || strOf(n) == "" {
			return nil, mongoerr.New(mongoerr.Code(31120), "$unset specification must be a string or an array containing only string values")
		}
		b = appendElem(b, strOf(n), int32Val(0))
	}
	return NewProjection(endDoc(b, start))
}

func parseAddFields(spec []byte) ([]computedField, error) {
	var out []computedField
	it := iterDoc(spec)
	for {
		k, v, _, ok := it.next()
		if !ok {
			return out, nil
		}
		if _, err := updatePath(string(k)); err != nil {
			return nil, err
		}
		e, err := parseExpr(v, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, computedField{path: string(k), e: e})
	}
}

func parseUnwind(v bson.RawValue) (*unwindSpec, error) {
	u := &unwindSpec{}
	path := v
	if v.Type == bson.TypeEmbeddedDocument {
		path, _ = lookupField(v.Value, "path")
		if f, ok := lookupField(v.Value, "includeArrayIndex"); ok {
			if f.Type != bson.TypeString || strOf(f) == "" || strOf(f)[0] == '$' {
				return nil, mongoerr.New(mongoerr.Code(28822), "includeArrayIndex option to $unwind stage should be a non-empty string not starting with '$'")
			}
			u.indexField = strOf(f)
		}
		if f, ok := lookupField(v.Value, "preserveNullAndEmptyArrays"); ok {
			u.preserveEmpty = truthy(f)
		}
	}
	s := strOf(path)
	if path.Type != bson.TypeString || len(s) < 2 || s[0] != '$' {
		return nil, mongoerr.New(codeUnwindPath, "path option to $unwind stage should be prefixed with a '$': %s", fmtValue(path))
	}
	u.path = s[1:]
	u.parts = splitPath(u.path)
	return u, nil
}

// Run evaluates the pipeline over docs (eagerly, stage by stage).
func (p *Pipeline) Run(docs []bson.Raw) ([]bson.Raw, error) {
	cur := docs
	for i := range p.stages {
		st := &p.stages[i]
		var next []bson.Raw
		switch st.name {
		case "$match":
			for _, d := range cur {
				if st.match.Match(d) {
					next = append(next, d)
				}
			}
		case "$sort":
			next = append([]bson.Raw(nil), cur...)
			st.sort.SortDocs(next)
		case "$skip":
			next = cur[min(int64(len(cur)), st.n):]
		case "$limit":
			next = cur[:min(int64(len(cur)), st.n)]
		case "$project":
			for _, d := range cur {
				next = append(next, st.proj.Apply(d))
			}
		case "$count":
			if len(cur) > 0 {
				b, start := beginDoc(nil)
				next = []bson.Raw{endDoc(appendElem(b, st.count, narrowInt(int64(len(cur)), true)), start)}
			}
		case "$group":
			next = st.group.run(cur)
		case "$addFields":
			for _, d := range cur {
				out, err := addFields(d, st.set)
				if err != nil {
					return nil, err
				}
				next = append(next, out)
			}
		case "$unwind":
			var err error
			if next, err = st.unw.run(cur); err != nil {
				return nil, err
			}
		}
		cur = next
	}
	return cur, nil
}

// addFields evaluates every expression against the input document, then sets them.
func addFields(doc bson.Raw, fields []computedField) (bson.Raw, error) {
	out := doc
	for _, f := range fields {
		v, ok := f.e.eval(doc)
		var err error
		if !ok {
			out, _, err = modifyDoc(out, splitPath(f.path), 0, func(bson.RawValue, bool) (edit, error) {
				return edit{act: deleteIt}, nil
			})
		} else {
			out, err = SetPath(out, f.path, v)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (u *unwindSpec) run(docs []bson.Raw) ([]bson.Raw, error) {
	var out []bson.Raw
	for _, d := range docs {
		v, ok, _ := lookupExact(d, u.parts)
		var elems []bson.RawValue
		switch {
		case ok && v.Type == bson.TypeArray:
			elems = values(v.Value)
		case ok && v.Type != bson.TypeNull && v.Type != bson.TypeUndefined:
			// A non-array value unwinds to itself.
			d2, err := u.withIndex(d, nullVal())
			if err != nil {
				return nil, err
			}
			out = append(out, d2)
			continue
		}
		if len(elems) == 0 {
			if u.preserveEmpty {
				d2, err := u.withIndex(d, nullVal())
				if err != nil {
					return nil, err
				}
				if ok && v.Type == bson.TypeArray { // mongod drops the empty array
					d2, _, _ = modifyDoc(d2, u.parts, 0, func(bson.RawValue, bool) (edit, error) { return edit{act: deleteIt}, nil })
				}
				out = append(out, d2)
			}
			continue
		}
		for i, e := range elems {
			d2, err := SetPath(d, u.path, e)
			if err == nil {
				d2, err = u.withIndex(d2, int64Val(int64(i)))
			}
			if err != nil {
				return nil, err
			}
			out = append(out, d2)
		}
	}
	return out, nil
}

func (u *unwindSpec) withIndex(d bson.Raw, idx bson.RawValue) (bson.Raw, error) {
	if u.indexField == "" {
		return d, nil
	}
	return SetPath(d, u.indexField, idx)
}
