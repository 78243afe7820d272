package recovery

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// fakeMongod is a shell script standing in for mongod: it writes its pid and sleeps until
// signalled, exiting 0 on SIGTERM as mongod's clean shutdown does.
func fakeMongod(t *testing.T) (path, pidFile string) {
	t.Helper()
	dir := t.TempDir()
	path, pidFile = filepath.Join(dir, "mongod"), filepath.Join(dir, "pid")
	script := "#!/bin/sh\necho $$ > " + pidFile + "\ntrap 'exit 0' TERM\nwhile :; do sleep 0.05; done\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, pidFile
}

func pidOf(t *testing.T, pidFile string, not int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var pid int
		if b, err := os.ReadFile(pidFile); err == nil {
			for _, ch := range string(b) {
				if ch >= '0' && ch <= '9' {
					pid = pid*10 + int(ch-'0')
				}
			}
		}
		if pid > 0 && pid != not {
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no new pid in %s", pidFile)
	return 0
}

// startExec starts an ExecController over a fake mongod with short backoffs; the context ends
// with the test.
func startExec(t *testing.T) (*ExecController, string, context.Context) {
	t.Helper()
	path, pidFile := fakeMongod(t)
	c, err := NewExecController(slog.New(slog.DiscardHandler), ExecOptions{Path: path, MinBackoff: 10 * time.Millisecond, StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	t.Cleanup(c.Release)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return c, pidFile, ctx
}

func waitExit(t *testing.T, c *ExecController) Exit {
	t.Helper()
	select {
	case e := <-c.Exits():
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no exit event")
		return Exit{}
	}
}

// A stopped (fenced) mongod stays down: no restart after Stop, and the exit is reported as
// wanted, not as a crash. Written first: it is the case that must not act.
func TestExecControllerStopKeepsItDown(t *testing.T) {
	c, pidFile, ctx := startExec(t)
	pid := pidOf(t, pidFile, 0)
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if e := waitExit(t, c); !e.Wanted || e.Err != nil {
		t.Errorf("exit after Stop: %+v, want a wanted clean exit", e)
	}
	if p := c.Process(); p.Running || p.RecentExits != 0 {
		t.Errorf("after Stop: %+v, want not running and no crash counted", p)
	}
	select {
	case e := <-c.Exits():
		t.Errorf("another exit after Stop: %+v (restarted?)", e)
	case <-time.After(300 * time.Millisecond):
	}
	if b, _ := os.ReadFile(pidFile); len(b) > 0 && pidOf(t, pidFile, 0) != pid {
		t.Error("a new process started after Stop")
	}
}

// A crash is reported at once and the child restarted with backoff; crashes are counted for
// Classify's crash-loop rule.
func TestExecControllerRestartsAfterCrash(t *testing.T) {
	c, pidFile, _ := startExec(t)
	defer func() { _ = c.Stop(context.Background()) }()
	pid := pidOf(t, pidFile, 0)
	for i := 1; i <= 2; i++ {
		killed := time.Now()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		e := waitExit(t, c)
		if e.Wanted || e.Err == nil {
			t.Errorf("crash %d reported as %+v", i, e)
		}
		t.Logf("crash %d reported %v after the kill", i, e.At.Sub(killed))
		pid = pidOf(t, pidFile, pid)
		if p := c.Process(); p.RecentExits != i || p.LastFatal == "" {
			t.Errorf("after crash %d: %+v", i, p)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for !c.Process().Running && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !c.Process().Running {
		t.Error("not running again after the crashes")
	}
}

func TestNewExecControllerNeedsAPath(t *testing.T) {
	if _, err := NewExecController(slog.New(slog.DiscardHandler), ExecOptions{}); err == nil {
		t.Error("accepted no mongod path")
	}
}

// After an exit, the last error line of mongod's structured log says why: what the classification
// of a corrupt dbpath reads.
func TestLastLogError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mongod.log")
	log := `{"t":{"$date":"2026-12-02T17:47:11.267+00:00"},"s":"I","c":"CONTROL","id":4615611,"ctx":"main","msg":"MongoDB starting"}
{"t":{"$date":"2026-12-02T17:47:11.267+00:00"},"s":"E","c":"CONTROL","id":20557,"ctx":"main","msg":"DBException in initAndListen, terminating","attr":{"error":"open dbpath: invalid database"}}
{"t":{"$date":"2026-12-02T17:47:11.267+00:00"},"s":"I","c":"CONTROL","id":23138,"ctx":"main","msg":"Shutting down","attr":{"exitCode":100}}
`
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	got := lastLogError(path)
	if got != "DBException in initAndListen, terminating (id 20557): open dbpath: invalid database" {
		t.Errorf("got %q", got)
	}
	if lastLogError(filepath.Join(t.TempDir(), "none.log")) != "" || lastLogError("") != "" {
		t.Errorf("a missing log must give nothing")
	}
}

// A start from a step with a deadline (a resync's start step) keeps the restart loop alive after
// that deadline: a crash later is restarted as after any start. Before, the loop died with the
// step's context and the member stayed down (found by a drill: 4 minutes down after a resync).
func TestExecControllerRestartsAfterTheStartContextEnds(t *testing.T) {
	path, pidFile := fakeMongod(t)
	c, err := NewExecController(slog.New(slog.DiscardHandler), ExecOptions{Path: path, MinBackoff: 10 * time.Millisecond, StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	defer func() { _ = c.Stop(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel() // the step is over
	pid := pidOf(t, pidFile, 0)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if e := waitExit(t, c); e.Wanted {
		t.Fatalf("crash reported as wanted: %+v", e)
	}
	pidOf(t, pidFile, pid) // a new process wrote its pid
}

// Release ends the restarts (a stopped sidecar's goroutine never starts mongod again) and leaves
// the running process alone.
func TestExecControllerReleaseEndsRestarts(t *testing.T) {
	c, pidFile, _ := startExec(t)
	pid := pidOf(t, pidFile, 0)
	c.Release()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitExit(t, c)
	if c.Process().Running {
		t.Fatal("running right after the crash")
	}
	deadline := time.Now().Add(300 * time.Millisecond) // 30 backoffs of 10 ms
	for time.Now().Before(deadline) {
		if c.Process().Running {
			t.Fatal("restarted after Release")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
