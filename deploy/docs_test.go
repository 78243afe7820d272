package deploy_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// reasonTypes are the types of reason codes (election.Reason, recovery.ResyncReason,
// recovery.PSAReason); a const of one of them is a code.
var reasonTypes = map[string]bool{"Reason": true, "ResyncReason": true, "PSAReason": true}

// codeReasons returns every reason code the code defines, with where.
func codeReasons(t *testing.T) map[string]string {
	t.Helper()
	base := root(t)
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, dir := range []string{"election", "recovery", "supervisor"} {
		files, err := filepath.Glob(filepath.Join(base, dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					if !isReasonConst(vs, filepath.Base(path)) {
						continue
					}
					for i, v := range vs.Values {
						if s, err := stringLit(v); err == nil && i < len(vs.Names) {
							out[s] = relPos(base, fset.Position(vs.Names[i].Pos()))
						}
					}
				}
			}
		}
	}
	if len(out) < 40 {
		t.Fatalf("found only %d reason codes: the scanner is broken", len(out))
	}
	if _, ok := out["refused_target_lagging"]; !ok {
		t.Fatal("the operator codes of supervisor/operator.go were not found: the scanner is broken")
	}
	return out
}

// isReasonConst: typed as a reason, one of the untyped re-add codes of recovery/readd.go, or
// one of the untyped operator codes of supervisor/operator.go (reason*, refused*, request*:
// the API's ActionResult.reason).
func isReasonConst(vs *ast.ValueSpec, file string) bool {
	switch ty := vs.Type.(type) {
	case *ast.Ident:
		return reasonTypes[ty.Name]
	case *ast.SelectorExpr:
		return reasonTypes[ty.Sel.Name]
	case nil:
		if len(vs.Names) != 1 {
			return false
		}
		n := vs.Names[0].Name
		switch file {
		case "readd.go":
			return n != "ReAddedTag" && (strings.HasPrefix(n, "ReAdd") || strings.HasPrefix(n, "RefusedReAdd"))
		case "operator.go":
			return strings.HasPrefix(n, "reason") || strings.HasPrefix(n, "refused") || strings.HasPrefix(n, "request") ||
				strings.HasSuffix(n, "Failed") || n == "unknownAction"
		}
	}
	return false
}

// operatorFailure matches the failure codes supervisor/operator_run.go writes as literals
// (switchover_failed, failover_failed, resync_failed).
var codeCell = regexp.MustCompile("^\\|\\s*`([a-z_]+)`\\s*\\|")

// TestReasonCodesDocumented: every reason code the code defines is explained in
// docs/runbooks/reason-codes.md, and every code the page explains exists.
func TestReasonCodesDocumented(t *testing.T) {
	code := codeReasons(t)
	page := string(readFile(t, "docs/runbooks/reason-codes.md"))
	documented := map[string]int{}
	for i, line := range strings.Split(page, "\n") {
		if m := codeCell.FindStringSubmatch(line); m != nil {
			documented[m[1]] = i + 1
		}
	}
	for c, where := range code {
		if _, ok := documented[c]; !ok {
			t.Errorf("%s: reason code %s is not explained in docs/runbooks/reason-codes.md", where, c)
		}
	}
	for c, line := range documented {
		if _, ok := code[c]; !ok {
			t.Errorf("docs/runbooks/reason-codes.md:%d: %s is not a reason code the code defines", line, c)
		}
	}
}

// The sections every runbook has (the brief of the operator surface).
var runbookSections = []string{"## When to use", "## Preconditions", "## Steps", "## What you should see", "## When it goes wrong", "## Rolling back"}

func TestRunbooksHaveEverySection(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root(t), "docs/runbooks/*.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		name := filepath.Base(f)
		if name == "README.md" || name == "reason-codes.md" {
			continue
		}
		n++
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range runbookSections {
			if !strings.Contains(string(data), "\n"+s) {
				t.Errorf("docs/runbooks/%s has no section %q", name, s)
			}
		}
	}
	if n < 7 {
		t.Errorf("want at least 7 runbooks, found %d", n)
	}
}

var mdLink = regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)

// TestDocLinks: relative links in the docs resolve, docs/README.md indexes every document, and
// every alert's runbook exists.
func TestDocLinks(t *testing.T) {
	base := root(t)
	var docs []string
	err := filepath.Walk(filepath.Join(base, "docs"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".md") {
			docs = append(docs, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	index := string(readFile(t, "docs/README.md"))
	for _, p := range append(docs, filepath.Join(base, "deploy/README.md")) {
		rel, _ := filepath.Rel(base, p)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(data), -1) {
			target := m[1]
			if strings.Contains(target, "://") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(p), target)); err != nil {
				t.Errorf("%s: link %s does not resolve", rel, target)
			}
		}
		if inDocs, _ := filepath.Rel(filepath.Join(base, "docs"), p); !strings.HasPrefix(inDocs, "..") && inDocs != "README.md" &&
			!strings.Contains(index, "("+filepath.ToSlash(inDocs)+")") {
			t.Errorf("docs/README.md does not link %s", rel)
		}
	}
	rules := string(readFile(t, "deploy/prometheus/rsguard-rules.yml"))
	for _, m := range regexp.MustCompile(`runbook: (\S+)`).FindAllStringSubmatch(rules, -1) {
		if _, err := os.Stat(filepath.Join(base, m[1])); err != nil {
			t.Errorf("rsguard-rules.yml: runbook %s does not exist", m[1])
		}
	}
}
