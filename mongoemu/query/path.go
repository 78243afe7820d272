package query

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Lookup resolves a dotted path ("a.b.0.c") into doc with MongoDB's matching
// semantics and returns every candidate value:
//
//   - a path component that meets an array continues into each element that
//     is a document ({"a.b": 1} matches {a: [{b: 1}, {b: 2}]}), and, when the
//     component is a non-negative integer, also into the element at that
//     index ("a.0.c");
//   - arrays nested directly in arrays are not descended by field name;
//   - a leaf array is returned itself, followed by its elements (so {a: 1}
//     matches {a: [1, 2]} and {a: [1, 2]} matches it too).
//
// Missing paths contribute nothing; an empty result means "missing".
func Lookup(doc bson.Raw, path string) []bson.RawValue {
	vals := walkDoc(doc, splitPath(path), nil)
	var out []bson.RawValue
	for _, v := range vals {
		if v.Type == 0 {
			continue
		}
		out = append(out, v)
		if v.Type == bson.TypeArray {
			out = append(out, values(v.Value)...)
		}
	}
	return out
}

func splitPath(path string) []string { return strings.Split(path, ".") }

// walkDoc appends to out the values parts reaches in doc. Unlike Lookup,
// leaf arrays are not expanded (each operator decides how it treats them)
// and places where the path is absent are reported as missing (type 0), so
// that {a: null} and $exists can see "absent in one array element".
func walkDoc(doc []byte, parts []string, out []bson.RawValue) []bson.RawValue {
	v, ok := lookupField(doc, parts[0])
	if !ok {
		return append(out, missing)
	}
	return walkValue(v, parts[1:], out)
}

func walkValue(v bson.RawValue, rest []string, out []bson.RawValue) []bson.RawValue {
	if len(rest) == 0 {
		return append(out, v)
	}
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return walkDoc(v.Value, rest, out)
	case bson.TypeArray:
		n := len(out)
		if isIndex(rest[0]) {
			if e, ok := lookupField(v.Value, rest[0]); ok {
				out = walkValue(e, rest[1:], out)
			}
		}
		it := iterDoc(v.Value)
		for {
			_, e, _, ok := it.next()
			if !ok {
				break
			}
			if e.Type == bson.TypeEmbeddedDocument {
				out = walkDoc(e.Value, rest, out)
			}
		}
		if len(out) == n {
			out = append(out, missing)
		}
		return out
	}
	return append(out, missing)
}

// isIndex reports whether a path component addresses an array position
// (digits without a leading zero, as mongod's positional path parsing).
func isIndex(s string) bool {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// lookupExact follows a dotted path through documents and, for numeric
// components, array positions, without fanning out over array elements;
// it is the single-value view used by updates, $unwind and sorting by
// position. arrayAt is the prefix where a non-numeric component met an array.
func lookupExact(doc []byte, parts []string) (v bson.RawValue, ok bool, arrayAt int) {
	cur := docVal(doc)
	for i, p := range parts {
		switch cur.Type {
		case bson.TypeEmbeddedDocument:
		case bson.TypeArray:
			if !isIndex(p) {
				return missing, false, i
			}
		default:
			return missing, false, -1
		}
		cur, ok = lookupField(cur.Value, p)
		if !ok {
			return missing, false, -1
		}
	}
	return cur, true, -1
}

// docOnlyLookup resolves parts when no array lies before the last
// component; the value is missing (type 0) when absent. simple is false when
// an array must be traversed, and the caller falls back to walkDoc.
func docOnlyLookup(doc []byte, parts []string) (v bson.RawValue, simple bool) {
	for i, p := range parts {
		var ok bool
		v, ok = lookupField(doc, p)
		switch {
		case !ok:
			return missing, true
		case i == len(parts)-1:
			return v, true
		case v.Type == bson.TypeEmbeddedDocument:
			doc = v.Value
		case v.Type == bson.TypeArray:
			return missing, false
		default:
			return missing, true
		}
	}
	return missing, true
}
