package query

import (
	"encoding/binary"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// pathNotViable is mongod's PathNotViable (28); mongoerr has no name for it yet.
const pathNotViable mongoerr.Code = 28

// maxPad bounds how far an update may extend an array with nulls (mongod
// refuses absurd positional paths instead of allocating gigabytes).
const maxPad = 1500000

type editAction int

const (
	keepIt editAction = iota
	setIt
	deleteIt
)

// edit is what an update operator wants at the end of its path.
type edit struct {
	act editAction
	v   bson.RawValue
}

// editFn sees the current value at the path (exists false when absent) and
// decides the edit. Write paths rebuild only the documents along the path
// and copy every sibling as raw bytes, so a $set costs one pass and one
// allocation per level.
type editFn func(old bson.RawValue, exists bool) (edit, error)

// SetPath returns a copy of doc with the dotted path set to v, creating
// intermediate documents as needed (numeric components address existing
// array positions; an array is padded with nulls when the position is past
// its end). Setting through a scalar fails with PathNotViable (28).
func SetPath(doc bson.Raw, path string, v bson.RawValue) (bson.Raw, error) {
	parts, err := updatePath(path)
	if err != nil {
		return nil, err
	}
	out, _, err := modifyDoc(doc, parts, 0, func(bson.RawValue, bool) (edit, error) {
		return edit{act: setIt, v: v}, nil
	})
	return out, err
}

// updatePath splits and validates an update's field path.
func updatePath(path string) ([]string, error) {
	if path == "" {
		return nil, mongoerr.New(mongoerr.EmptyFieldName, "An empty update path is not valid.")
	}
	parts := splitPath(path)
	for _, p := range parts {
		if p == "" {
			return nil, mongoerr.New(mongoerr.EmptyFieldName,
				"The update path '%s' contains an empty field name, which is not allowed.", path)
		}
	}
	return parts, nil
}

// modifyDoc applies fn at parts[i:] inside doc and reports whether doc changed.
func modifyDoc(doc []byte, parts []string, i int, fn editFn) ([]byte, bool, error) {
	key := parts[i]
	it := iterDoc(doc)
	start, end := -1, -1
	var cur bson.RawValue
	for {
		s := it.pos
		k, v, _, ok := it.next()
		if !ok {
			break
		}
		if string(k) == key {
			start, end, cur = s, it.pos, v
			break
		}
	}
	var e edit
	var err error
	switch {
	case start >= 0 && i == len(parts)-1:
		e, err = fn(cur, true)
	case start >= 0:
		e.v, e.act, err = modifyValue(cur, parts, i+1, fn)
	default:
		e, err = fn(missing, false)
		if e.act == setIt {
			e.v = nested(parts[i+1:], e.v)
		} else {
			e.act = keepIt
		}
	}
	if err != nil || e.act == keepIt {
		return doc, false, err
	}
	if start < 0 {
		start, end = it.end, it.end
		if it.b == nil { // empty or malformed input: start a fresh document
			doc, start, end = emptyDoc(), 4, 4
		}
	}
	out := make([]byte, 0, len(doc)+len(key)+len(e.v.Value)+2)
	out = append(out, doc[:start]...)
	if e.act == setIt {
		out = appendElem(out, key, e.v)
	}
	out = append(out, doc[end:]...)
	binary.LittleEndian.PutUint32(out, uint32(len(out)))
	return out, true, nil
}

// modifyValue descends from v (the value at parts[i-1]) into parts[i:].
func modifyValue(v bson.RawValue, parts []string, i int, fn editFn) (bson.RawValue, editAction, error) {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		out, changed, err := modifyDoc(v.Value, parts, i, fn)
		if err != nil || !changed {
			return v, keepIt, err
		}
		return docVal(out), setIt, nil
	case bson.TypeArray:
		if isIndex(parts[i]) {
			return modifyArray(v, parts, i, fn)
		}
	}
	// A field under a scalar or a named field under an array cannot be
	// created; removing or leaving it alone is a no-op, as in mongod.
	e, err := fn(missing, false)
	if err != nil || e.act != setIt {
		return v, keepIt, err
	}
	return v, keepIt, mongoerr.New(pathNotViable, "Cannot create field '%s' in element {%s: %s}",
		parts[i], parts[i-1], fmtValue(v))
}

func modifyArray(v bson.RawValue, parts []string, i int, fn editFn) (bson.RawValue, editAction, error) {
	elems := values(v.Value)
	idx := atoi(parts[i])
	last := i == len(parts)-1
	if idx < len(elems) {
		var e edit
		var err error
		if last {
			e, err = fn(elems[idx], true)
			if e.act == deleteIt { // $unset of an array element leaves a null hole
				e = edit{act: setIt, v: nullVal()}
			}
		} else {
			e.v, e.act, err = modifyValue(elems[idx], parts, i+1, fn)
		}
		if err != nil || e.act != setIt {
			return v, keepIt, err
		}
		elems[idx] = e.v
		return arrayVal(elems), setIt, nil
	}
	e, err := fn(missing, false)
	if err != nil || e.act != setIt {
		return v, keepIt, err
	}
	if idx-len(elems) > maxPad {
		return v, keepIt, mongoerr.New(mongoerr.BadValue,
			"can't backfill array to larger than %d elements", maxPad)
	}
	for len(elems) < idx {
		elems = append(elems, nullVal())
	}
	elems = append(elems, nested(parts[i+1:], e.v))
	return arrayVal(elems), setIt, nil
}

// nested wraps v in documents for the remaining path components:
// nested(["b","c"], v) is {b: {c: v}}.
func nested(parts []string, v bson.RawValue) bson.RawValue {
	for j := len(parts) - 1; j >= 0; j-- {
		b, start := beginDoc(nil)
		v = docVal(endDoc(appendElem(b, parts[j], v), start))
	}
	return v
}

// pathPrefixOf reports whether a is b or a component-wise prefix of b.
func pathPrefixOf(a, b string) bool {
	return a == b || (strings.HasPrefix(b, a) && b[len(a)] == '.')
}
