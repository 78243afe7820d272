package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is one process the demo started: a mongod or a sidecar. It runs in its own process group,
// so that Ctrl-C in the terminal reaches the demo only (which then stops everything in order),
// and signals reach the whole group; on Linux it also dies with the demo (parent-death signal).
type child struct {
	name    string
	path    string
	args    []string
	logPath string // stdout and stderr, appended across restarts

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (c *child) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runningLocked() {
		return fmt.Errorf("%s is already running", c.name)
	}
	f, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "=== supervisor demo %s: %s %s\n", time.Now().Format(time.RFC3339Nano), c.path, strings.Join(c.args, " "))
	cmd := exec.Command(c.path, c.args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	done := make(chan struct{})
	c.cmd, c.done = cmd, done
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	return nil
}

func (c *child) runningLocked() bool {
	if c.done == nil {
		return false
	}
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

func (c *child) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runningLocked()
}

func (c *child) pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// exited is closed when the current run ends (nil before the first start).
func (c *child) exited() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

// signal sends sig to the child's process group.
func (c *child) signal(sig syscall.Signal) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.runningLocked() {
		return errNotRunning
	}
	return syscall.Kill(-c.cmd.Process.Pid, sig)
}

var errNotRunning = errors.New("not running")

// stop sends sig, waits up to grace for the exit, then SIGKILLs the group and waits for that.
func (c *child) stop(sig syscall.Signal, grace time.Duration) {
	done := c.exited()
	if done == nil || c.signal(sig) != nil {
		return
	}
	select {
	case <-done:
		return
	case <-time.After(grace):
	}
	_ = c.signal(syscall.SIGKILL)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// tail is the last n lines of the child's log, for error messages.
func (c *child) tail(n int) string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(string(bytes.TrimRight(b, "\n")), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > 300 {
			lines[i] = l[:300] + "..."
		}
	}
	return strings.Join(lines, "\n")
}
