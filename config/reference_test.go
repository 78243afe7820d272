package config

import (
	"bytes"
	"flag"
	"fmt"
	"go/doc"
	"os"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from the config types")

// referencePath is the generated configuration reference, relative to this package.
const referencePath = "../docs/configuration.md"

// TestConfigReference keeps docs/configuration.md equal to what the config types say: every
// key's dotted path, type, default (from Default and the derived defaults), whether it is
// required (validation says "is required" on an empty value), reloadable (Reloadable) and
// agreed (agreementRules), and the field's doc comment. Run with -update after changing them.
func TestConfigReference(t *testing.T) {
	got, undocumented, err := configReference(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range undocumented {
		t.Errorf("%s has no doc comment; the reference takes its description from it", f)
	}
	if *update {
		if err := os.WriteFile(referencePath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v; run: go test ./config -run TestConfigReference -update", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		line := func(ls []string) string {
			if i < len(ls) {
				return ls[i]
			}
			return "<end of file>"
		}
		t.Errorf("docs/configuration.md is out of date (first difference at line %d:\n  file: %s\n  code: %s)\nrun: go test ./config -run TestConfigReference -update",
			i+1, line(wl), line(gl))
	}
}

// refEntry is one key of the reference.
type refEntry struct {
	key, typ, def, doc string
	required           bool
}

// refGen holds what the generator learned from the sources and from the code.
type refGen struct {
	pkg       *doc.Package
	types     map[string]*doc.Type
	fieldDocs map[string]map[string]string // type -> field -> doc comment
	required  map[string]bool              // normalized keys validation calls required
	rules     map[string]keyRule
	undoc     []string
	derive    func() // re-derives the defaults of the config being described
}

// configReference renders the reference from the package sources in dir.
func configReference(dir string) ([]byte, []string, error) {
	g, err := newRefGen(dir)
	if err != nil {
		return nil, nil, err
	}
	def := Default()
	def.Mode = ModeData // recovery's derived defaults apply to data sidecars
	derive := func() { def.deriveDefaults(func(string) bool { return false }) }
	derive()
	g.derive = derive

	var b bytes.Buffer
	b.WriteString(referenceHeader)
	ct := reflect.TypeFor[Config]()
	var top []refEntry
	type section struct {
		name    string
		self    refEntry
		entries []refEntry
	}
	var sections []section
	for i := range ct.NumField() {
		f := ct.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		fv := reflect.ValueOf(&def).Elem().Field(i)
		e := g.entry(ct, f, fv, name)
		st := sectionType(f.Type)
		if st == nil {
			top = append(top, e)
			continue
		}
		var entries []refEntry
		g.walk(st, g.sectionValue(f.Type, fv), keyPrefix(f.Type, name), &entries)
		// A section is described by its type's doc comment, more complete than the field's,
		// except for lists and maps, whose type describes one element.
		if k := f.Type.Kind(); k != reflect.Slice && k != reflect.Map {
			if td := g.typeDoc(st, name); td != "" {
				e.doc = td
			}
		}
		sections = append(sections, section{name: name, self: e, entries: entries})
	}
	b.WriteString("## Contents\n\n- [Top level](#top-level)\n")
	for _, s := range sections {
		fmt.Fprintf(&b, "- [%s](#%s)\n", s.name, s.name)
	}
	b.WriteString("\n## Top level\n\n")
	for _, e := range top {
		g.render(&b, e, true)
	}
	for _, s := range sections {
		fmt.Fprintf(&b, "## %s\n\n", s.name)
		g.render(&b, s.self, false)
		for _, e := range s.entries {
			g.render(&b, e, true)
		}
	}
	return append(bytes.TrimRight(b.Bytes(), "\n"), '\n'), g.undoc, nil
}

const referenceHeader = `# Configuration reference

<!-- Generated from the config package (its types' doc comments, Default and validation) by
     go test ./config -run TestConfigReference -update
     Do not edit: change the doc comments in config/*.go and regenerate. -->

One YAML file per sidecar (` + "`supervisor run --config node.yaml`" + `). Keys are listed by their dotted
path; ` + "`[]`" + ` stands for any list element and ` + "`<name>`" + ` for a map key of your choosing.
Durations are Go durations (` + "`500ms`, `2s`, `5m`, `1h`" + `). Relative paths are relative to the
configuration file. Unknown keys, wrong types, duplicate keys and literal secrets are errors that
name the file, line, column and key.

Each key shows its type, then:

- **required** (no default) or its **default** (an em dash: empty, unset). A default shown for
  a key inside an optional section or a list element applies when that section or element is
  present;
- **reloadable** when a SIGHUP may change it (otherwise a change needs a restart);
- **agreed** when every sidecar's file must hold the same value (sidecars compare digests and a
  sidecar that disagrees is not ready), or **per sidecar**.

`

// render writes one key: a heading (unless it is the section's own entry, under its ## heading),
// its attributes and its description.
func (g *refGen) render(b *bytes.Buffer, e refEntry, heading bool) {
	if heading {
		fmt.Fprintf(b, "### `%s`\n\n", e.key)
	}
	attrs := []string{e.typ}
	switch {
	case e.required:
		attrs = append(attrs, "**required**")
	case e.def != "":
		attrs = append(attrs, "default "+e.def)
	}
	norm := strings.ReplaceAll(strings.ReplaceAll(e.key, "[]", ""), ".<name>", "")
	if Reloadable(norm) {
		attrs = append(attrs, "reloadable")
	}
	for k := norm; k != ""; k = parentKey(k) {
		if r, ok := g.rules[k]; ok {
			if r.class == Agreed {
				attrs = append(attrs, "agreed")
			} else {
				attrs = append(attrs, "per sidecar")
			}
			break
		}
	}
	b.WriteString(strings.Join(attrs, " · ") + "\n\n")
	if e.doc != "" {
		b.WriteString(e.doc + "\n\n")
	}
}
