package lab

import (
	"errors"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// Proc.WaitStopped is WaitPIDsStopped on its pid, and a process that exited is ErrNotRunning.
func TestProcWaitStopped(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc")
	}
	dir := t.TempDir()
	// One process that never forks: a shell loop stopped while it forks a sleep can stay in
	// state D (vfork) and never reach T (seen once in CI).
	p := &Proc{Name: "sleeper", Path: "/bin/sleep", Args: []string{"1000"},
		StdoutPath: filepath.Join(dir, "out"), StderrPath: filepath.Join(dir, "out")}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitStopped(t.Context(), true); err != nil {
		t.Fatalf("stopped: %v", err)
	}
	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitStopped(t.Context(), false); err != nil {
		t.Fatalf("running again: %v", err)
	}
	if err := p.Kill(); err != nil { // waits for the exit
		t.Fatal(err)
	}
	if err := p.WaitStopped(t.Context(), true); !errors.Is(err, ErrNotRunning) {
		t.Errorf("waiting for an exited process: %v, want ErrNotRunning", err)
	}
}
