package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rsguard/rsguard/dashboard/dashtest"
)

func testReport() Report {
	rec := killRecording()
	rec.Linearizability = &Linearizability{Verdict: "linearizable", Ops: 40, Unknown: 2}
	pass := Measure(rec)
	fail := killRecording()
	fail.Scenario, fail.Majority.Lost = "isolate-primary", []string{"7"}
	skip := Result{Scenario: "lose-arbiter", Run: 1, Target: "test", Verdict: VerdictSkip, Skipped: "precondition not met: the set has no arbiter"}
	return NewReport("test", at(-2000), at(5000), []Result{pass, Measure(fail), skip})
}

func TestReportTable(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, testReport()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Log("\n" + out)
	lines := strings.Split(out, "\n")
	for i, re := range []string{
		`^SCENARIO\s+RUN\s+RESULT\s+DETECTED\s+DECISION\s+NEW PRIMARY\s+WRITABLE\s+WRITES PAUSED\s+ACKED LOST\s+ROLLED BACK\s+RECOVERED$`,
		`^kill-primary\s+0\s+pass\s+0\.70s\s+primary_process_dead\s+b:1\s+1\.50s\s+1\.50s\s+0\s+1\s+\+1\.00s$`,
		`^isolate-primary\s+0\s+fail\s+0\.70s\s+primary_process_dead\s+b:1\s+1\.50s\s+1\.50s\s+1\s+1\s+\+1\.00s$`,
		`^lose-arbiter\s+1\s+skip(\s+-){8}$`,
		`^isolate-primary #0: 1 acknowledged w:"majority" inserts lost \(_id \[7\]\)$`,
		`^lose-arbiter #1 skipped: precondition not met: the set has no arbiter$`,
		`^1 passed, 1 failed, 1 skipped on test$`,
	} {
		if i >= len(lines) || !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d: want %s", i+1, re)
		}
	}
}

func TestReportJSON(t *testing.T) {
	var b bytes.Buffer
	r := testReport()
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Passed != 1 || back.Failed != 1 || back.Skipped != 1 || r.OK() {
		t.Errorf("counts %d/%d/%d, OK %v", back.Passed, back.Failed, back.Skipped, r.OK())
	}
	k := back.Results[0]
	if *k.DetectionMs != 700 || *k.WritablePrimaryMs != 1500 || k.WriteUnavailableMs != 1500 || len(k.Audit) != 1 || k.Timeline[0].Kind != MarkFault {
		t.Errorf("round trip lost data: %+v", k)
	}
	for _, key := range []string{`"detection_ms": 700`, `"write_unavailable_ms": 1500`, `"acked_lost": 0`, `"rolled_back": 1`, `"verdict": "skip"`, `"recovery_ms": 1000`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("JSON has no %s", key)
		}
	}
}

// TestReportHTMLInBrowser: the HTML report opens in headless Chromium without console errors,
// loads nothing from elsewhere, and has a timeline for every run that ran.
func TestReportHTMLInBrowser(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, testReport()); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<script", "src=", "href=\"http", "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("the report is not self-contained: it has %q", bad)
		}
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, _ := dashtest.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.ID("summary"))); err != nil {
		t.Fatal(err)
	}
	count := func(sel string) int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+"`"+`).length`))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return n
	}
	charts, marks, rows := count("svg.timeline"), count("#kill-primary-0 svg.timeline g.mark"), count("#summary tbody tr")
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#kill-primary-0 h2").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if n := count("#kill-primary-0 table.metrics tr"); n != 10 {
		t.Errorf("kill-primary has %d metric rows, want 10 (the register history's included)", n)
	}
	if charts != 2 || rows != 3 {
		t.Errorf("%d timelines (want 2: the skipped run has none), %d summary rows (want 3)", charts, rows)
	}
	if want := len(Measure(killRecording()).Timeline); marks != want {
		t.Errorf("kill-primary timeline has %d marks, want %d", marks, want)
	}
	if !strings.Contains(title, "kill-primary") || !strings.Contains(title, "pass") {
		t.Errorf("heading %q", title)
	}
	if errs := dashtest.JSErrors(ctx); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	dashtest.Screenshot(t, ctx, "drill-report")
}

func TestProgressCountsEveryStep(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, 2)
	for _, s := range runSteps {
		p.Step("kill-primary", 1, s)
	}
	p.Done(Result{Scenario: "kill-primary", Run: 1, Verdict: VerdictPass})
	p.Step("switchover", 1, "warm-up")
	p.Done(Result{Scenario: "switchover", Run: 1, Verdict: VerdictError})
	if got := p.bar.State().CurrentNum; got != int64(2*len(runSteps)) {
		t.Errorf("bar at %d, want %d", got, 2*len(runSteps))
	}
	if err := p.Finish(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "kill-primary #1") {
		t.Errorf("the bar never named the run: %q", b.String())
	}
}
