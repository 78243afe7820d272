//go:build linux

package main

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// TestDieBySignalAborts: a fatal assertion ends mongoemu the way std::abort() ends mongod, by
// SIGABRT with its default action, so a parent (the e2e harness, systemd) sees "signal: aborted"
// rather than Go's own SIGABRT handling (goroutine dump, exit status 2) or an exit code.
func TestDieBySignalAborts(t *testing.T) {
	if os.Getenv("MONGOEMU_TEST_DIE") == "1" {
		dieBySignal(syscall.SIGABRT)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDieBySignalAborts$")
	cmd.Env = append(os.Environ(), "MONGOEMU_TEST_DIE=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child did not fail: %v\n%s", err, out)
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGABRT {
		t.Fatalf("child ended with %v, want death by SIGABRT\n%s", ee, out)
	}
	if len(out) > 0 {
		t.Fatalf("child printed %q: Go's SIGABRT handler ran instead of the default action", out)
	}
}
