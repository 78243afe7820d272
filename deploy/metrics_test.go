package deploy_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// metric is one metric as the code defines it or docs/metrics.md documents it.
type metric struct {
	Name   string
	Type   string // counter, gauge, histogram, summary
	Labels []string
	Where  string // file:line
}

// beingAdded are metrics documented (and used by the rules and the dashboard) before the code
// that defines them lands. Each entry is checked like any other once the code has it; remove it
// from this list then.
var beingAdded = map[string]metric{}

// constructors are the client_golang functions that define a metric, with its type and the
// index of the label-names argument (-1: none).
var constructors = map[string]struct {
	typ    string
	labels int
}{
	"NewCounter": {"counter", -1}, "NewCounterVec": {"counter", 1}, "NewCounterFunc": {"counter", -1},
	"NewGauge": {"gauge", -1}, "NewGaugeVec": {"gauge", 1}, "NewGaugeFunc": {"gauge", -1},
	"NewHistogram": {"histogram", -1}, "NewHistogramVec": {"histogram", 1},
	"NewSummary": {"summary", -1}, "NewSummaryVec": {"summary", 1},
}

// codeMetrics parses every non-test Go file of the module and returns the metrics its
// prometheus.*Opts literals define. A definition whose name or labels are not literals is an
// error: the catalogue could not be checked against it.
func codeMetrics(t *testing.T) map[string]metric {
	t.Helper()
	base := root(t)
	fset := token.NewFileSet()
	out := map[string]metric{}
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != base && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			ctor, ok := constructors[sel.Sel.Name]
			if !ok || len(call.Args) == 0 {
				return true
			}
			lit, ok := call.Args[0].(*ast.CompositeLit)
			if !ok || !isOpts(lit.Type) {
				return true
			}
			where := relPos(base, fset.Position(call.Pos()))
			m, err := fromOpts(lit, ctor.typ, where)
			if err != nil {
				t.Error(err)
				return true
			}
			if ctor.labels >= 0 && ctor.labels < len(call.Args) {
				if m.Labels, err = stringSlice(call.Args[ctor.labels]); err != nil {
					t.Errorf("%s: %s labels: %v", where, m.Name, err)
				}
			}
			if prev, dup := out[m.Name]; dup && (prev.Type != m.Type || !slices.Equal(prev.Labels, m.Labels)) {
				t.Errorf("%s: %s is also defined at %s with another type or labels", where, m.Name, prev.Where)
			}
			out[m.Name] = m
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func relPos(base string, p token.Position) string {
	if r, err := filepath.Rel(base, p.Filename); err == nil {
		p.Filename = r
	}
	return fmt.Sprintf("%s:%d", p.Filename, p.Line)
}

// isOpts reports whether the literal's type is prometheus.{Counter,Gauge,Histogram,Summary}Opts.
func isOpts(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "prometheus" && strings.HasSuffix(sel.Sel.Name, "Opts")
}

// fromOpts reads Namespace, Subsystem and Name of an Opts literal (client_golang joins them
// with "_").
func fromOpts(lit *ast.CompositeLit, typ, where string) (metric, error) {
	parts := map[string]string{}
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		key, _ := kv.Key.(*ast.Ident)
		if key == nil || (key.Name != "Namespace" && key.Name != "Subsystem" && key.Name != "Name") {
			continue
		}
		s, err := stringLit(kv.Value)
		if err != nil {
			return metric{}, fmt.Errorf("%s: %s: %v (write metric names as literals so docs/metrics.md can be checked)", where, key.Name, err)
		}
		parts[key.Name] = s
	}
	var name []string
	for _, k := range []string{"Namespace", "Subsystem", "Name"} {
		if parts[k] != "" {
			name = append(name, parts[k])
		}
	}
	if len(name) == 0 {
		return metric{}, fmt.Errorf("%s: a metric without a name", where)
	}
	return metric{Name: strings.Join(name, "_"), Type: typ, Labels: []string{}, Where: where}, nil
}

func stringLit(e ast.Expr) (string, error) {
	b, ok := e.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		return "", fmt.Errorf("not a string literal")
	}
	return strconv.Unquote(b.Value)
}

func stringSlice(e ast.Expr) ([]string, error) {
	if id, ok := e.(*ast.Ident); ok && id.Name == "nil" {
		return []string{}, nil
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, fmt.Errorf("not a []string literal")
	}
	out := []string{}
	for _, el := range lit.Elts {
		s, err := stringLit(el)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// docRow is a catalogue row: | `name` | type | `label`, `label` | meaning |
var docRow = regexp.MustCompile("^\\|\\s*`(rsguard_[a-z0-9_]+)`\\s*\\|\\s*([a-z]+)\\s*\\|([^|]*)\\|\\s*(.*?)\\s*\\|\\s*$")

// docMetrics parses docs/metrics.md.
func docMetrics(t *testing.T) map[string]metric {
	t.Helper()
	out := map[string]metric{}
	for i, line := range strings.Split(string(readFile(t, "docs/metrics.md")), "\n") {
		if !strings.HasPrefix(line, "| `rsguard_") {
			continue
		}
		m := docRow.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("docs/metrics.md:%d: want | `name` | type | `labels` | meaning |, got %q", i+1, line)
			continue
		}
		labels := []string{}
		for _, l := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(m[3], -1) {
			labels = append(labels, l[1])
		}
		if m[4] == "" {
			t.Errorf("docs/metrics.md:%d: %s has no meaning", i+1, m[1])
		}
		if _, dup := out[m[1]]; dup {
			t.Errorf("docs/metrics.md:%d: %s is documented twice", i+1, m[1])
		}
		out[m[1]] = metric{Name: m[1], Type: m[2], Labels: labels, Where: fmt.Sprintf("docs/metrics.md:%d", i+1)}
	}
	if len(out) == 0 {
		t.Fatal("docs/metrics.md documents no rsguard_ metric")
	}
	return out
}

func sameLabels(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// TestMetricsCatalogue: every metric the code defines is in docs/metrics.md with its type and
// labels, and the catalogue documents nothing the code lacks (but the being-added list).
func TestMetricsCatalogue(t *testing.T) {
	code, doc := codeMetrics(t), docMetrics(t)
	if len(code) < 20 {
		t.Fatalf("found only %d metrics in the code: the scanner is broken", len(code))
	}
	if !strings.HasPrefix(code["rsguard_supervisor_ready"].Where, "supervisor/") {
		t.Fatalf("rsguard_supervisor_ready not found in supervisor/: the scanner is broken (%v)", code["rsguard_supervisor_ready"])
	}
	for name, c := range code {
		if !strings.HasPrefix(name, "rsguard_") {
			t.Errorf("%s: metric %s does not follow rsguard_<package>_<thing> (DESIGN.md)", c.Where, name)
		}
		d, ok := doc[name]
		switch {
		case !ok:
			t.Errorf("%s: metric %s (%s, labels %v) is missing from docs/metrics.md", c.Where, name, c.Type, c.Labels)
		case d.Type != c.Type:
			t.Errorf("%s: %s is a %s, but %s says %s", c.Where, name, c.Type, d.Where, d.Type)
		case !sameLabels(d.Labels, c.Labels):
			t.Errorf("%s: %s has labels %v, but %s says %v", c.Where, name, c.Labels, d.Where, d.Labels)
		}
		if _, planned := beingAdded[name]; planned {
			t.Logf("%s is defined now (%s): remove it from beingAdded", name, c.Where)
		}
	}
	for name, d := range doc {
		if _, ok := code[name]; ok {
			continue
		}
		if b, planned := beingAdded[name]; planned {
			if b.Type != d.Type || !sameLabels(b.Labels, d.Labels) {
				t.Errorf("%s: %s differs from its beingAdded entry %v", d.Where, name, b)
			}
			continue
		}
		t.Errorf("%s: %s is documented but no code defines it", d.Where, name)
	}
}

var metricRef = regexp.MustCompile(`\brsguard_[a-z0-9_]+`)

// known resolves a name used in PromQL to a defined (or being-added) metric, accepting the
// _bucket, _sum and _count series of histograms and summaries.
func known(code map[string]metric, name string) bool {
	if _, ok := code[name]; ok {
		return true
	}
	if _, ok := beingAdded[name]; ok {
		return true
	}
	for _, sfx := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, sfx); ok {
			if m, ok := code[base]; ok && (m.Type == "histogram" || m.Type == "summary" && sfx != "_bucket") {
				return true
			}
		}
	}
	return false
}

// TestRulesAndDashboardUseDefinedMetrics: a metric the alert rules or the dashboard query exists
// in the code (or is being added), so a renamed metric cannot silently empty a panel or an alert.
func TestRulesAndDashboardUseDefinedMetrics(t *testing.T) {
	code := codeMetrics(t)
	for _, file := range []string{"deploy/prometheus/rsguard-rules.yml", "deploy/grafana/rsguard.json"} {
		lines := strings.Split(string(readFile(t, file)), "\n")
		used := 0
		for i, line := range lines {
			if strings.Contains(line, `"summary"`) || strings.Contains(line, "summary:") {
				continue // alert summaries are prose
			}
			for _, name := range metricRef.FindAllString(line, -1) {
				if strings.HasPrefix(name, "rsguard_rules") || strings.HasSuffix(name, "_") {
					continue
				}
				used++
				if !known(code, name) {
					t.Errorf("%s:%d: %s is not a metric the code defines", file, i+1, name)
				}
			}
		}
		if used < 10 {
			t.Errorf("%s uses only %d rsguard metrics: the scan is broken", file, used)
		}
	}
}

// TestDashboard: the dashboard JSON loads, queries the provisioned datasource, has unique panel
// ids and the panels the brief asks for, each showing its metric.
func TestDashboard(t *testing.T) {
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource *struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(readFile(t, "deploy/grafana/rsguard.json"), &d); err != nil {
		t.Fatalf("deploy/grafana/rsguard.json: %v", err)
	}
	ds := string(readFile(t, "deploy/grafana/provisioning/datasources/prometheus.yml"))
	exprs := map[string]string{} // title -> all its queries
	ids := map[int]string{}
	for _, p := range d.Panels {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panel id %d used by %q and %q", p.ID, prev, p.Title)
		}
		ids[p.ID] = p.Title
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || !strings.Contains(ds, "uid: "+p.Datasource.UID) {
			t.Errorf("panel %q: datasource %v is not the provisioned one", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs[p.Title] += tg.Expr + "\n"
		}
	}
	for title, metricName := range map[string]string{
		"Primary per set":            "rsguard_supervisor_member_state",
		"Member states":              "rsguard_supervisor_member_state",
		"Replication lag":            "rsguard_supervisor_member_lag_seconds",
		"Detections and failovers":   "rsguard_supervisor_failover_duration_seconds_count",
		"Actions by kind and result": "rsguard_supervisor_actions_total",
		"Refusals by reason":         "rsguard_supervisor_refusals_total",
		"Automatic failover blocked": "rsguard_supervisor_failover_blocked",
		"Gossip members":             "rsguard_heartbeat_members",
		"Write probe latency":        "rsguard_supervisor_write_probe_latency_seconds_bucket",
		"Resync progress":            "rsguard_supervisor_resync_progress_ratio",
		"Rollback archive":           "rsguard_supervisor_rollback_archive_entries",
		"Webhook deliveries":         "rsguard_notify_webhook_deliveries_total",
		"Hook runs":                  "rsguard_notify_hook_runs_total",
	} {
		e, ok := exprs[title]
		switch {
		case !ok:
			t.Errorf("the dashboard has no panel %q", title)
		case !strings.Contains(e, metricName):
			t.Errorf("panel %q does not query %s:\n%s", title, metricName, e)
		}
	}
	if _, err := os.Stat(filepath.Join(root(t), "deploy/grafana/provisioning/dashboards/rsguard.yml")); err != nil {
		t.Errorf("dashboard provider: %v", err)
	}
}
