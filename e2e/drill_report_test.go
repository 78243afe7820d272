package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Drill environment knobs (Makefile targets `drill` and `soak` set them):
//
//	RSGUARD_DRILL_RUNS=10        runs per measured scenario (default 1: keeps `go test ./...` fast)
//	RSGUARD_SOAK=5m              total duration of the false-positive soak (default 60s: one cycle)
//	RSGUARD_DRILL_REPORT=path    also append every drill report to this file (relative paths are
//	                             relative to the e2e package, e.g. testdata/drills/report.md)
const (
	envDrillRuns   = "RSGUARD_DRILL_RUNS"
	envSoak        = "RSGUARD_SOAK"
	envDrillReport = "RSGUARD_DRILL_REPORT"
)

// fullDrill is true under `make drill` and `make bench-failover` ($RSGUARD_DRILL_RUNS set): the
// drills hold their published windows; the default suite runs their short forms.
func fullDrill() bool { return os.Getenv(envDrillRuns) != "" }

// shortOrFull is short in the default suite and full under `make drill`.
func shortOrFull[T any](short, full T) T {
	if fullDrill() {
		return full
	}
	return short
}

func drillRuns(t testing.TB) int {
	t.Helper()
	v := os.Getenv(envDrillRuns)
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		t.Fatalf("$%s=%q: want a number of runs from 1 to 100", envDrillRuns, v)
	}
	return n
}

func soakDuration(t testing.TB) time.Duration {
	t.Helper()
	v := os.Getenv(envSoak)
	if v == "" {
		return 60 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 10*time.Second {
		t.Fatalf("$%s=%q: want a Go duration of at least 10s", envSoak, v)
	}
	return d
}

// series is one measured quantity over the runs of a drill.
type series struct {
	name string
	vals []time.Duration
}

func (s *series) add(d time.Duration) { s.vals = append(s.vals, d) }

// quantile is the nearest-rank q-quantile (q in (0,1]); 0 when empty.
func (s *series) quantile(q float64) time.Duration {
	if len(s.vals) == 0 {
		return 0
	}
	v := slices.Clone(s.vals)
	slices.Sort(v)
	i := int(q*float64(len(v))+0.999999) - 1
	return v[max(0, min(i, len(v)-1))]
}

// median is the middle value (mean of the two middle ones for an even count).
func (s *series) median() time.Duration {
	if len(s.vals) == 0 {
		return 0
	}
	v := slices.Clone(s.vals)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// drillReport is the report of one drill: a table of runs, summary lines and notes. It goes to
// the test log and, with $RSGUARD_DRILL_REPORT, is appended to that file.
type drillReport struct {
	title  string
	series []*series
	lines  []string // verbatim (extra tables)
	notes  []string
}

func newDrillReport(title string, names ...string) *drillReport {
	r := &drillReport{title: title}
	for _, n := range names {
		r.series = append(r.series, &series{name: n})
	}
	return r
}

// has reports whether the report has a series name (a column declared or added).
func (r *drillReport) has(name string) bool {
	for _, s := range r.series {
		if s.name == name {
			return true
		}
	}
	return false
}

func (r *drillReport) s(name string) *series {
	for _, s := range r.series {
		if s.name == name {
			return s
		}
	}
	s := &series{name: name}
	r.series = append(r.series, s)
	return s
}

// line adds a verbatim line (e.g. of an extra table) after the runs table.
func (r *drillReport) line(format string, args ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *drillReport) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *drillReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", r.title)
	runs := 0
	for _, s := range r.series {
		runs = max(runs, len(s.vals))
	}
	if runs > 0 {
		b.WriteString("| run |")
		for _, s := range r.series {
			fmt.Fprintf(&b, " %s |", s.name)
		}
		b.WriteString("\n|---|")
		for range r.series {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for i := range runs {
			fmt.Fprintf(&b, "| %d |", i+1)
			for _, s := range r.series {
				if i < len(s.vals) {
					fmt.Fprintf(&b, " %s |", secs(s.vals[i]))
				} else {
					b.WriteString(" - |")
				}
			}
			b.WriteString("\n")
		}
		for _, row := range []struct {
			name string
			f    func(*series) time.Duration
		}{{"median", (*series).median}, {"p90", func(s *series) time.Duration { return s.quantile(0.9) }}} {
			fmt.Fprintf(&b, "| %s |", row.name)
			for _, s := range r.series {
				if len(s.vals) == 0 {
					b.WriteString(" - |")
				} else {
					fmt.Fprintf(&b, " %s |", secs(row.f(s)))
				}
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	for _, l := range r.lines {
		fmt.Fprintf(&b, "%s\n", l)
	}
	if len(r.lines) > 0 {
		b.WriteString("\n")
	}
	for _, n := range r.notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	return b.String()
}

var reportFile struct {
	mu      sync.Mutex
	started bool
}

// publish logs the report and appends it to $RSGUARD_DRILL_REPORT (truncated by the first
// report of the test binary), creating its directory.
func (r *drillReport) publish(t testing.TB) {
	t.Helper()
	text := r.String()
	t.Logf("drill report:\n%s", text)
	reportFile.mu.Lock()
	defer reportFile.mu.Unlock()
	r.publishJSON(t)
	path := os.Getenv(envDrillReport)
	if path == "" {
		return
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	header := ""
	if !reportFile.started {
		flags |= os.O_TRUNC
		header = fmt.Sprintf("# rsguard drill report, %s\n\n", time.Now().UTC().Format(time.RFC3339))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Errorf("drill report: %v", err)
		return
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		t.Errorf("drill report: %v", err)
		return
	}
	defer f.Close()
	reportFile.started = true
	if _, err := f.WriteString(header + text + "\n"); err != nil {
		t.Errorf("drill report: %v", err)
	}
}
