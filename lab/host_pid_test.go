package lab

import (
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
)

// MongodPIDs finds a host's mongod by its --dbpath whoever started it, and the pid helpers stop,
// resume and kill it: what the local drill target does to a mongod its sidecar runs.
func TestMongodPIDsAndSignals(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc")
	}
	dir := t.TempDir()
	h := &Host{Addr: "127.0.0.2", Port: 27017, DBPath: filepath.Join(dir, "db")}
	if pids, err := h.MongodPIDs(); err != nil || len(pids) != 0 {
		t.Fatalf("before the start: %v %v", pids, err)
	}
	// Not the lab's child process group: a "mongod" of its own, as a sidecar's exec child is.
	p := &Proc{Name: "fake-mongod", Path: "/bin/sh", Args: []string{"-c", "while :; do sleep 0.05; done", "sh", "--dbpath", h.DBPath},
		StdoutPath: filepath.Join(dir, "out"), StderrPath: filepath.Join(dir, "out")}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	pids, err := h.MongodPIDs()
	if err != nil || !slices.Equal(pids, []int{p.Pid()}) {
		t.Fatalf("MongodPIDs %v (%v), want [%d]", pids, err, p.Pid())
	}
	if err := SignalPIDs(syscall.SIGSTOP, pids...); err != nil {
		t.Fatal(err)
	}
	if err := WaitPIDsStopped(t.Context(), true, pids...); err != nil {
		t.Fatalf("stopped: %v", err)
	}
	if err := SignalPIDs(syscall.SIGCONT, pids...); err != nil {
		t.Fatal(err)
	}
	if err := WaitPIDsStopped(t.Context(), false, pids...); err != nil {
		t.Fatalf("running again: %v", err)
	}
	if err := SignalPIDs(syscall.SIGKILL, pids...); err != nil {
		t.Fatal(err)
	}
	if err := WaitPIDsGone(t.Context(), pids...); err != nil {
		t.Fatal(err)
	}
	if PIDAlive(pids[0]) {
		t.Errorf("pid %d alive after SIGKILL", pids[0])
	}
	if err := SignalPIDs(syscall.SIGKILL, pids...); err != nil {
		t.Errorf("a pid already gone is skipped: %v", err)
	}
	if err := WaitPIDsStopped(t.Context(), true, pids...); err == nil {
		t.Errorf("waiting for a gone pid to stop succeeded")
	}
}
