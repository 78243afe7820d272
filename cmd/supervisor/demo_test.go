package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsguard/rsguard/lab"
)

// TestDemoOnce runs `supervisor demo --once` as a user would (the built binary, mongoemu next to
// it, real processes on 127.0.0.N) and checks that rsguard drove the failover and that the last
// line reports it. Timing is printed, not asserted: numbers belong in drill reports.
func TestDemoOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3 mongods and 4 sidecars and kills one: not in -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("needs 127.0.0.N loopback addresses, which only Linux routes by default")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin, "./cmd/supervisor", "./cmd/mongoemu")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "demo")
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "supervisor"), "demo", "--once", "--dir", dir, "--keep")
	cmd.Env = append(os.Environ(), lab.EnvMongod+"=")                       // the mongoemu built next to it, not the caller's
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) } // the demo cleans up
	cmd.WaitDelay = 15 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			dumpDemoLogs(t, dir)
		}
		t.Fatalf("demo --once: %v (deadline: %v)", err, ctx.Err())
	}
	text := strings.TrimRight(out.String(), "\n")
	lines := strings.Split(text, "\n")
	last := lines[len(lines)-1]
	if strings.HasPrefix(last, "kept ") {
		last = lines[len(lines)-2]
	}
	re := regexp.MustCompile(`^failover: new writable primary 127\.0\.0\.\d+:\d+ after (\d+\.\d\d)s \(first w:"majority" write acknowledged after \d+\.\d\ds, writes failed or stalled for \d+\.\d\ds, 0 acknowledged writes lost\)$`)
	m := re.FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line does not report the failover:\n%s", last)
	}
	t.Logf("failover time: %ss", m[1])
	// rsguard, not MongoDB's own election timer, made the new primary.
	// The audit section is the record; the narration polls /v1/status and may see only the
	// executor's later abort_catch_up when both run within one poll.
	if !regexp.MustCompile(`(?m)^\s+\+\d+\.\d+s\s+\S+\s+step_up 127\.0\.0\.\d+:\d+ executed`).MatchString(text) {
		dumpDemoLogs(t, dir)
		t.Errorf("no sidecar executed a step_up: the new primary came from MongoDB's own election")
	}
	// The operator's part: a switchover and a resync through the API, and the history.
	for _, re := range []string{`(?m)^\[\s*\d+\.\ds\] switchover done \(switchover_done\) by sidecar \S+ in \d+ms`,
		`(?m)^\[\s*\d+\.\ds\] resync done \(resync_done\) by sidecar \S+`, `(?m)^\s+\S+\s+action\s+switchover from`} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("the operator's part lacks %s", re)
		}
	}
	// The killed member came back through its sidecar's process controller, not the demo.
	if !regexp.MustCompile(`(?m)^\s+\+\d+\.\d+s\s+its sidecar restarted mongod 127\.0\.0\.\d+:\d+ \(pid \d+\)$`).MatchString(text) ||
		!regexp.MustCompile(`(?m)^\s+\+\d+\.\d+s\s+127\.0\.0\.\d+:\d+ rejoined as SECONDARY$`).MatchString(text) {
		t.Errorf("the summary does not show the former primary restarted by its sidecar and back as SECONDARY")
	}
}

func dumpDemoLogs(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, p := range logs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		t.Logf("--- %s (last 20 lines):\n%s", p, strings.Join(lines[max(0, len(lines)-20):], "\n"))
	}
}
