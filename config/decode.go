package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder fills a struct from a yaml.Node strictly: keys must match a field's yaml tag, scalar
// tags must match the field's type (no "yes" for true, no 5 for "5s"), duplicate keys, merge keys
// and multi-document files are rejected. Fields not named in the file keep the value they had,
// which is how defaults apply. Every key's position is recorded for later messages.
type decoder struct{ p *problems }

var durationType = reflect.TypeFor[time.Duration]()

// decode walks n into v (addressable); key is v's dotted path, "" for the root.
func (d decoder) decode(n *yaml.Node, v reflect.Value, key string) {
	n = resolveAlias(n)
	if n == nil || n.ShortTag() == "!!null" {
		return // an empty value keeps the default, like an absent key
	}
	switch {
	case v.Type() == durationType:
		d.duration(n, v, key)
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
			applyDefaults(v)
		}
		d.decode(n, v.Elem(), key)
	case v.Kind() == reflect.Struct:
		d.structure(n, v, key)
	case v.Kind() == reflect.Slice:
		d.list(n, v, key)
	case v.Kind() == reflect.Map:
		d.stringMap(n, v, key)
	case v.Kind() == reflect.String:
		if d.scalar(n, key, "!!str", "a string") {
			v.SetString(n.Value)
		}
	case v.Kind() == reflect.Bool:
		if d.scalar(n, key, "!!bool", "true or false") {
			b, _ := strconv.ParseBool(strings.ToLower(n.Value))
			v.SetBool(b)
		}
	case v.Kind() == reflect.Int:
		var i int64
		if d.scalar(n, key, "!!int", "an integer") {
			if err := n.Decode(&i); err != nil || i != int64(int(i)) {
				d.fail(key, fmt.Sprintf("integer %s is out of range", n.Value))
				return
			}
			v.SetInt(i)
		}
	case v.Kind() == reflect.Float64:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
			n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: n.Value, Line: n.Line, Column: n.Column}
		}
		var f float64
		if d.scalar(n, key, "!!float", "a number") {
			if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				d.fail(key, fmt.Sprintf("expected a finite number, got %s", describe(n)))
				return
			}
			v.SetFloat(f)
		}
	default:
		panic("config: no decoder for " + v.Type().String()) // a schema bug, caught by tests
	}
}

// fail records a decoding problem and marks key so that validation leaves it alone.
func (d decoder) fail(key, msg string) {
	d.p.at(key, msg)
	d.p.decodeFailed(key)
}

// scalar checks that n is a scalar with the given tag, reporting what was found otherwise.
func (d decoder) scalar(n *yaml.Node, key, tag, want string) bool {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == tag {
		return true
	}
	msg := fmt.Sprintf("expected %s, got %s", want, describe(n))
	if tag == "!!str" && n.Kind == yaml.ScalarNode {
		msg += " (quote the value if it is meant as text)"
	}
	d.fail(key, msg)
	return false
}

func (d decoder) duration(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.fail(key, fmt.Sprintf(`expected a duration such as "500ms", "2s" or "5m", got %s`, describe(n)))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(key, fmt.Sprintf(`invalid duration %s: use a number with a unit such as "500ms", "2s" or "5m"`, quote(n.Value)))
		return
	}
	v.SetInt(int64(dur))
}

func (d decoder) structure(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(key, "expected a mapping of keys, got "+describe(n))
		return
	}
	fields := yamlFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolveAlias(n.Content[i]), n.Content[i+1]
		if k == nil {
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.p.atPos(pos{k.Line, k.Column}, key, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.p.atPos(pos{k.Line, k.Column}, key, "keys must be plain names, got "+describe(k))
			continue
		}
		sub := join(key, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.p.atPos(pos{k.Line, k.Column}, sub, fmt.Sprintf("duplicate key (first set on line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			d.p.atPos(pos{k.Line, k.Column}, sub, unknownKeyMsg(v.Type(), key, k.Value))
			continue
		}
		d.p.pos[sub] = pos{k.Line, k.Column}
		d.decode(val, v.Field(idx), sub)
	}
}

func (d decoder) list(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(key, "expected a list, got "+describe(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		sub := fmt.Sprintf("%s[%d]", key, i)
		d.p.pos[sub] = pos{e.Line, e.Column}
		applyDefaults(out.Index(i).Addr())
		d.decode(e, out.Index(i), sub)
	}
	v.Set(out)
}

func (d decoder) stringMap(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(key, "expected a mapping, got "+describe(n))
		return
	}
	out := reflect.MakeMap(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolveAlias(n.Content[i]), resolveAlias(n.Content[i+1])
		if k == nil || val == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			d.p.atPos(pos{k.Line, k.Column}, key, "keys must be plain names, got "+describe(k))
			continue
		}
		sub := join(key, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.p.atPos(pos{k.Line, k.Column}, sub, fmt.Sprintf("duplicate key (first set on line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		d.p.pos[sub] = pos{k.Line, k.Column}
		if v.Type().Elem().Kind() != reflect.String { // a map of sections, such as webhook headers
			e := reflect.New(v.Type().Elem())
			applyDefaults(e)
			d.decode(val, e.Elem(), sub)
			out.SetMapIndex(reflect.ValueOf(k.Value), e.Elem())
			continue
		}
		if !d.scalar(val, sub, "!!str", "a string") {
			continue
		}
		out.SetMapIndex(reflect.ValueOf(k.Value), reflect.ValueOf(val.Value))
	}
	v.Set(out)
}

// defaulter is a schema type with defaults of its own, applied when the decoder creates one
// (an optional section that appears, or a list element).
type defaulter interface{ setDefaults() }

func applyDefaults(ptr reflect.Value) {
	if d, ok := ptr.Interface().(defaulter); ok {
		d.setDefaults()
	}
}

// resolveAlias follows *alias nodes to their anchor; nil on a broken alias chain.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 {
			return nil
		}
		n = n.Alias
	}
	return n
}

// yamlFields maps yaml key names to field indexes; fields tagged "-" are not decodable.
func yamlFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			out[name] = i
		}
	}
	return out
}

func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func join(key, name string) string {
	if key == "" {
		return name
	}
	return key + "." + name
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "string " + quote(n.Value)
		case "!!int":
			return "integer " + clip(n.Value)
		case "!!float":
			return "number " + clip(n.Value)
		case "!!bool":
			return "boolean " + clip(n.Value)
		case "!!null":
			return "null"
		}
		return "a value tagged " + clip(n.ShortTag())
	}
	return "an unsupported YAML node"
}

// quote quotes a user-supplied string for a message, shortened so that a pasted blob does not
// flood the terminal.
func quote(s string) string { return strconv.Quote(clip(s)) }

func clip(s string) string {
	const maxLen = 60
	if len(s) > maxLen {
		return strings.ToValidUTF8(s[:maxLen], "") + "..."
	}
	return s
}
