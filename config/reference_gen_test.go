package config

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The configuration reference's generator: what it reads from the package sources (doc
// comments, enum constants) and from the code (defaults, required keys).

func newRefGen(dir string) (*refGen, error) {
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	pkg, err := doc.NewFromFiles(fset, files, "github.com/rsguard/rsguard/config", doc.AllDecls|doc.PreserveAST)
	if err != nil {
		return nil, err
	}
	g := &refGen{pkg: pkg, types: map[string]*doc.Type{}, fieldDocs: map[string]map[string]string{},
		required: requiredKeys(), rules: agreementRules()}
	for _, t := range pkg.Types {
		g.types[t.Name] = t
		for _, spec := range t.Decl.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok {
				continue
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			docs := map[string]string{}
			for _, f := range st.Fields.List {
				text := f.Doc.Text()
				if text == "" {
					text = f.Comment.Text()
				}
				for _, n := range f.Names {
					docs[n.Name] = text
				}
			}
			g.fieldDocs[ts.Name.Name] = docs
		}
	}
	return g, nil
}

// requiredKeys are the keys validation reports as required when they are empty, list indexes
// normalized to []: found by validating configurations whose optional sections are present
// and empty, one per process controller.
func requiredKeys() map[string]bool {
	out := map[string]bool{}
	idx := regexp.MustCompile(`\[\d+\]`)
	for _, ctl := range []ProcessController{ControllerExec, ControllerCommand, ControllerSystemd} {
		c := Default()
		c.Mongod = &Mongod{}
		c.Mongod.setDefaults()
		m := Member{}
		m.setDefaults()
		c.Members = []Member{m}
		w := Webhook{}
		w.setDefaults()
		c.Notifications.Webhooks = []Webhook{w}
		h := Hook{}
		h.setDefaults()
		c.Hooks = Hooks{PreFailover: &h, PostFailover: &h, OnResync: &h, OnRollback: &h}
		c.Process.Controller = ctl
		c.Process.Exec, c.Process.Command, c.Process.Systemd = &ProcessExec{}, &ProcessCommand{}, &ProcessSystemd{}
		c.deriveDefaults(func(string) bool { return false })
		p := &problems{pos: map[string]pos{}}
		validate(&c, p)
		for _, e := range p.errs {
			if strings.HasPrefix(e.Msg, "is required") {
				out[idx.ReplaceAllString(e.Key, "[]")] = true
			}
		}
	}
	return out
}

// walk adds the entries of struct type t (defaults v) under prefix.
func (g *refGen) walk(t reflect.Type, v reflect.Value, prefix string, out *[]refEntry) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		key := join(prefix, name)
		fv := v.Field(i)
		*out = append(*out, g.entry(t, f, fv, key))
		if st := sectionType(f.Type); st != nil {
			g.walk(st, g.sectionValue(f.Type, fv), keyPrefix(f.Type, key), out)
		}
	}
}

// sectionType is the struct a field opens (directly, behind a pointer, as list elements or as
// map values), or nil for a plain value.
func sectionType(t reflect.Type) reflect.Type {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && t != durationType && t != reflect.TypeFor[Secret]() {
		return t
	}
	return nil
}

// sectionValue is the default value of the section a field opens: the value itself; for an
// absent optional section, a new one with its own defaults, put in place so that the defaults
// derived from its presence apply (pre_failover's on_timeout); for list elements and map values,
// a new element with its own defaults.
func (g *refGen) sectionValue(t reflect.Type, v reflect.Value) reflect.Value {
	switch t.Kind() {
	case reflect.Struct:
		return v
	case reflect.Pointer:
		if v.IsNil() {
			e := reflect.New(t.Elem())
			applyDefaults(e)
			v.Set(e)
			g.derive()
		}
		return v.Elem()
	}
	e := reflect.New(sectionType(t))
	applyDefaults(e)
	return e.Elem()
}

func keyPrefix(t reflect.Type, key string) string {
	switch t.Kind() {
	case reflect.Slice:
		return key + "[]"
	case reflect.Map:
		return key + ".<name>"
	}
	return key
}

// entry describes field f of struct type t, whose default is v.
func (g *refGen) entry(t reflect.Type, f reflect.StructField, v reflect.Value, key string) refEntry {
	norm := strings.ReplaceAll(key, ".<name>", "")
	e := refEntry{key: key, typ: g.typeName(f.Type), def: defaultText(f.Type, v), required: g.required[norm]}
	raw, ok := g.fieldDocs[t.Name()][f.Name]
	if !ok || strings.TrimSpace(raw) == "" {
		g.undoc = append(g.undoc, fmt.Sprintf("%s.%s (%s)", t.Name(), f.Name, key))
	}
	e.doc = g.markdown(raw, t)
	return e
}

// typeDoc is the doc comment of a section's type, its name replaced by the key.
func (g *refGen) typeDoc(t reflect.Type, key string) string {
	dt := g.types[t.Name()]
	if dt == nil {
		return ""
	}
	md := g.markdown(dt.Doc, t)
	return regexp.MustCompile(`^`+t.Name()+`\b`).ReplaceAllString(md, "`"+key+"`")
}

// markdown renders a doc comment, naming the fields of t by their YAML keys.
func (g *refGen) markdown(text string, t reflect.Type) string {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	var pr comment.Printer
	md := string(pr.Markdown(g.pkg.Parser().Parse(text)))
	// Go doc comments start with the field's name; CamelCase names elsewhere are field names
	// too, while one-word names (TLS, Name) may be plain words there.
	camel := regexp.MustCompile(`^[A-Z][a-z0-9]+[A-Z]`)
	for i := range t.NumField() {
		f := t.Field(i)
		n := yamlName(f)
		if n == "" {
			continue
		}
		md = regexp.MustCompile(`^`+f.Name+`\b`).ReplaceAllString(md, "`"+n+"`")
		if camel.MatchString(f.Name) {
			re := regexp.MustCompile(`(^|[^.\w` + "`" + `])` + f.Name + `\b`)
			md = re.ReplaceAllString(md, "${1}`"+n+"`")
		}
	}
	return strings.TrimSpace(md)
}

// typeName describes a field's type, listing the values of string enums.
func (g *refGen) typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Pointer:
		return "section, optional"
	case t.Kind() == reflect.Struct:
		return "section"
	case t.Kind() == reflect.Slice && sectionType(t) != nil:
		return "list of sections"
	case t.Kind() == reflect.Slice:
		return "list of " + g.typeName(t.Elem()) + "s"
	case t.Kind() == reflect.Map && sectionType(t) != nil:
		return "map of sections"
	case t.Kind() == reflect.Map:
		return "map of " + g.typeName(t.Elem()) + "s"
	case t.Kind() == reflect.String:
		if vals := g.enumValues(t); len(vals) > 0 {
			return strings.Join(vals, " \\| ")
		}
		return "string"
	case t.Kind() == reflect.Bool:
		return "bool"
	case t.Kind() == reflect.Int:
		return "integer"
	case t.Kind() == reflect.Float64:
		return "number"
	}
	return t.String()
}

// enumValues are the string constants declared with type t, quoted; "" as "(empty)".
func (g *refGen) enumValues(t reflect.Type) []string {
	dt := g.types[t.Name()]
	if t.PkgPath() != reflect.TypeFor[Config]().PkgPath() || dt == nil {
		return nil
	}
	var out []string
	for _, c := range dt.Consts {
		for _, spec := range c.Decl.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok {
				continue
			}
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					if s == "" {
						out = append(out, "(empty)")
					} else {
						out = append(out, fmt.Sprintf("`%s`", s))
					}
				}
			}
		}
	}
	return out
}

// defaultText renders a default value as the file would spell it; "" for sections.
func defaultText(t reflect.Type, v reflect.Value) string {
	switch {
	case t == durationType:
		return "`" + fmtDur(time.Duration(v.Int())) + "`"
	case t.Kind() == reflect.Pointer:
		if v.IsNil() {
			return "absent"
		}
		return ""
	case t.Kind() == reflect.Struct:
		return ""
	case t.Kind() == reflect.Slice:
		if v.Len() == 0 {
			return "`[]`"
		}
		var items []string
		for i := range v.Len() {
			items = append(items, fmt.Sprint(v.Index(i).Interface()))
		}
		return "`[" + strings.Join(items, ", ") + "]`"
	case t.Kind() == reflect.Map:
		if v.Len() == 0 {
			return "`{}`"
		}
		return fmt.Sprintf("`%v`", v.Interface())
	case t.Kind() == reflect.String:
		if v.String() == "" {
			return "—"
		}
		return "`" + v.String() + "`"
	case t.Kind() == reflect.Bool:
		return "`" + strconv.FormatBool(v.Bool()) + "`"
	case t.Kind() == reflect.Int:
		return "`" + strconv.FormatInt(v.Int(), 10) + "`"
	case t.Kind() == reflect.Float64:
		return "`" + strconv.FormatFloat(v.Float(), 'g', -1, 64) + "`"
	}
	return "`" + fmt.Sprint(v.Interface()) + "`"
}
