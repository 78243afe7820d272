package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Kill reaches the whole process group: a grandchild the shell started in the background dies
// with it.
func TestProcKillGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	p := &Proc{Name: "sh", Path: "/bin/sh", Args: []string{"-c", "sleep 300 & echo $! > " + pidFile + "; echo started; wait"},
		StdoutPath: filepath.Join(dir, "out"), StderrPath: filepath.Join(dir, "out")}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var child int
	if err := waitFile(t.Context(), pidFile, &child); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(child, 0); err != nil {
		t.Fatalf("grandchild %d not running: %v", child, err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if p.Running() || !strings.Contains(p.ExitState(), "killed") {
		t.Errorf("after Kill: running %v, %s", p.Running(), p.ExitState())
	}
	if err := pollGone(t.Context(), child); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGTERM); !errors.Is(err, ErrNotRunning) {
		t.Errorf("signal after exit: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close after Kill: %v", err)
	}
	if !strings.Contains(p.Tail(5), "started") {
		t.Errorf("tail: %q", p.Tail(5))
	}
}

func waitFile(ctx context.Context, path string, pid *int) error {
	return Poll(ctx, 10*time.Second, func(context.Context) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		*pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err
	})
}

// pollGone waits until pid no longer exists (or is a zombie nobody reaps: init reaps it soon).
func pollGone(ctx context.Context, pid int) error {
	return Poll(ctx, 10*time.Second, func(context.Context) error {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		if _, rest, _ := strings.Cut(string(b), ") "); strings.HasPrefix(rest, "Z") {
			return nil
		}
		return fmt.Errorf("grandchild %d still alive", pid)
	})
}
