package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsguard/rsguard/e2e/harness"
)

// TestDrillLocalKillPrimary runs `supervisor drill --scenario kill-primary` as a user would, on
// the default local set (the built binaries, real processes on 127.0.0.N, MongoDB's default
// election settings): the JSON report must show a pass, a new writable primary, every
// acknowledged w:"majority" insert still there, rsguard's audit trail with the failover it
// executed, and the HTML report must be written. Times are logged, not asserted.
func TestDrillLocalKillPrimary(t *testing.T) {
	bins := harness.Build(t)
	dir := t.TempDir()
	jsonPath, htmlPath := filepath.Join(dir, "drill.json"), filepath.Join(dir, "drill.html")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.Supervisor, "drill", "--scenario", "kill-primary", "--mongod", bins.Mongod,
		"--dir", filepath.Join(dir, "set"), "--json", jsonPath, "--html", htmlPath)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) } // the drill undoes and tears down
	cmd.WaitDelay = 15 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	started := time.Now()
	err := cmd.Run()
	t.Logf("supervisor drill (%s):\n%s", time.Since(started).Round(100*time.Millisecond), out.String())
	if err != nil {
		dumpLocalSetLogs(t, filepath.Join(dir, "set", "sidecars"))
		t.Fatalf("supervisor drill: %v (deadline: %v)", err, ctx.Err())
	}

	var rep struct {
		Target  string
		Passed  int
		Results []struct {
			Scenario, Verdict  string
			Problems           []string
			FormerPrimary      string `json:"former_primary"`
			NewPrimary         string `json:"new_primary"`
			WritablePrimaryMs  *int64 `json:"writable_primary_ms"`
			WriteUnavailableMs int64  `json:"write_unavailable_ms"`
			AckedLost          int    `json:"acked_lost"`
			Majority           struct{ Acked int }
			Decision           string
			Audit              []json.RawMessage
			RecoveredMs        *int64 `json:"recovered_ms"`
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("JSON report: %v", err)
	}
	if len(rep.Results) != 1 || !strings.HasPrefix(rep.Target, "local set rs0 on 127.0.0.") {
		t.Fatalf("JSON report: target %q, %d results", rep.Target, len(rep.Results))
	}
	r := rep.Results[0]
	if r.Scenario != "kill-primary" || r.Verdict != "pass" || rep.Passed != 1 {
		t.Errorf("%s: verdict %s, problems %q", r.Scenario, r.Verdict, r.Problems)
	}
	if r.NewPrimary == "" || r.NewPrimary == r.FormerPrimary || r.WritablePrimaryMs == nil {
		t.Errorf("no new writable primary: former %q, new %q, writable at %v", r.FormerPrimary, r.NewPrimary, r.WritablePrimaryMs)
	}
	if r.AckedLost != 0 || r.Majority.Acked == 0 {
		t.Errorf("%d acknowledged w:\"majority\" inserts lost of %d", r.AckedLost, r.Majority.Acked)
	}
	if r.RecoveredMs == nil {
		t.Errorf("the former primary %s was not seen back in the set", r.FormerPrimary)
	}
	// The audit trail holds the failover rsguard executed (a SIGKILL leaves it to rsguard).
	executed := false
	var trail []string
	for _, l := range r.Audit {
		var a struct {
			Time            time.Time
			Sidecar, Reason string
			Result          string
			Analysis        struct{ Kind string }
			Decision        struct{ Action string }
		}
		if json.Unmarshal(l, &a) == nil {
			executed = executed || strings.HasPrefix(a.Result, "executed")
			trail = append(trail, fmt.Sprintf("%s %s %s %s %s: %s", a.Time.Format("15:04:05.000"), a.Sidecar, a.Analysis.Kind, a.Decision.Action, a.Reason, a.Result))
		}
	}
	if len(r.Audit) == 0 || !executed || r.Decision == "" {
		t.Errorf("audit trail: %d lines, an executed action %v, decision %q:\n%s", len(r.Audit), executed, r.Decision, strings.Join(trail, "\n"))
	}
	h, err := os.ReadFile(htmlPath)
	if err != nil || !bytes.Contains(h, []byte("kill-primary")) {
		t.Errorf("HTML report: %v (%d bytes)", err, len(h))
	}
	t.Logf("new primary %s writable after %dms, writes paused %dms, decision %s, %d audit lines",
		r.NewPrimary, *r.WritablePrimaryMs, r.WriteUnavailableMs, r.Decision, len(r.Audit))
}

// dumpLocalSetLogs logs the end of every sidecar's output of a local set.
func dumpLocalSetLogs(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, p := range logs {
		if b, err := os.ReadFile(p); err == nil {
			lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			t.Logf("--- %s (last 20 lines):\n%s", p, strings.Join(lines[max(0, len(lines)-20):], "\n"))
		}
	}
}
