package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one child process of a host (its mongod or a sidecar). It runs in its own process
// group (so signals reach any children too, and Ctrl-C in a terminal reaches the lab's owner
// only), inside the host's cgroup when there is one, and on Linux with a parent-death SIGKILL so
// it does not outlive a crashed owner. Stdout and stderr are appended to files (they may be the
// same file), so they survive restarts.
type Proc struct {
	Name       string
	Path       string
	Args       []string
	StdoutPath string
	StderrPath string
	// Env, when set, is the process environment (nil: the owner's).
	Env []string

	cg *hostCgroup

	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{} // closed when the current run exited
	state *os.ProcessState
}

// ErrNotRunning is returned when signalling a process that is not running.
var ErrNotRunning = errors.New("process is not running")

// Start starts the process (again, after an exit).
func (p *Proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.runningLocked() {
		return fmt.Errorf("%s: already running (pid %d)", p.Name, p.cmd.Process.Pid)
	}
	stdout, err := os.OpenFile(p.StdoutPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	defer stdout.Close()
	stderr := stdout
	if p.StderrPath != p.StdoutPath {
		if stderr, err = os.OpenFile(p.StderrPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		defer stderr.Close()
	}
	fmt.Fprintf(stderr, "=== rsguard lab %s: start %s %s\n", time.Now().Format(time.RFC3339Nano), p.Path, strings.Join(p.Args, " "))

	newCmd := func() *exec.Cmd {
		cmd := exec.Command(p.Path, p.Args...)
		cmd.Stdout, cmd.Stderr = stdout, stderr
		cmd.Env = p.Env
		cmd.SysProcAttr = procAttr()
		return cmd
	}
	cmd := newCmd()
	if p.cg != nil {
		// Born inside the cgroup (clone3 CLONE_INTO_CGROUP): no packet leaves unattributed.
		fd, err := syscall.Open(p.cg.dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: open cgroup: %w", p.Name, err)
		}
		defer syscall.Close(fd)
		intoCgroup(cmd.SysProcAttr, fd)
	}
	if err := cmd.Start(); err != nil {
		if p.cg == nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		cmd = newCmd()
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		if err := p.cg.add(cmd.Process.Pid); err != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			return fmt.Errorf("%s: join cgroup: %w", p.Name, err)
		}
	}
	done := make(chan struct{})
	p.cmd, p.done, p.state = cmd, done, nil
	go func() {
		_ = cmd.Wait()
		p.mu.Lock()
		if p.cmd == cmd {
			p.state = cmd.ProcessState
		}
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

func (p *Proc) runningLocked() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Running reports whether the process has been started and has not exited.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runningLocked()
}

// Pid is the pid of the current (or last) run, 0 if never started.
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// ExitCode is the exit code of the last run: -1 while running, never started, or killed by a
// signal (see ExitState).
func (p *Proc) ExitCode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == nil {
		return -1
	}
	return p.state.ExitCode()
}

// ExitState describes how the last run ended ("exit status 1", "signal: killed"), or "running"
// / "not started".
func (p *Proc) ExitState() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.runningLocked():
		return "running"
	case p.state == nil:
		return "not started"
	}
	return p.state.String()
}

// Done is closed when the current run exits (nil if never started).
func (p *Proc) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// Signal sends sig to the process group.
func (p *Proc) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.runningLocked() {
		return fmt.Errorf("%s: %w", p.Name, ErrNotRunning)
	}
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

// Wait waits up to timeout for the current run to exit.
func (p *Proc) Wait(timeout time.Duration) error {
	done := p.Done()
	if done == nil {
		return nil
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return fmt.Errorf("%s: still running %v after the signal", p.Name, timeout)
	}
}

// Kill SIGKILLs the process group and waits for the exit. Killing a stopped process is fine.
func (p *Proc) Kill() error {
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	return p.Wait(10 * time.Second)
}

// Stop sends SIGTERM, waits up to timeout for a clean exit, then SIGKILLs and reports it.
func (p *Proc) Stop(timeout time.Duration) error {
	_ = p.Signal(syscall.SIGCONT) // a frozen process cannot handle SIGTERM
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := p.Wait(timeout); err != nil {
		_ = p.Kill()
		return fmt.Errorf("%w; killed", err)
	}
	return nil
}

// Close kills the process group if it runs; it is idempotent.
func (p *Proc) Close() error {
	if !p.Running() {
		return nil
	}
	if err := p.Kill(); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	return nil
}

// Tail returns the last n lines of stdout and stderr, labelled.
func (p *Proc) Tail(n int) string {
	if p.StderrPath == p.StdoutPath {
		return TailFile(p.Name+" output", p.StdoutPath, n)
	}
	return TailFile(p.Name+" stdout", p.StdoutPath, n) + TailFile(p.Name+" stderr", p.StderrPath, n)
}

const maxLogLine = 600

// TailFile renders the last n lines of path under a header, or "" if it is empty or missing.
func TailFile(label, path string, n int) string {
	lines := TailLines(path, n)
	if len(lines) == 0 {
		return ""
	}
	return fmt.Sprintf("--- %s (%s), last %d lines:\n%s\n", label, path, len(lines), strings.Join(lines, "\n"))
}

// TailLines are the last n lines of path, each cut at 600 bytes (mongod logs whole config
// documents on one line); nil if it is empty or missing.
func TailLines(path string, n int) []string {
	b, err := os.ReadFile(path)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > maxLogLine {
			lines[i] = l[:maxLogLine] + fmt.Sprintf("... (%d bytes)", len(l))
		}
	}
	return lines
}

// WaitStopped polls /proc until every thread of the process is stopped (stopped true) or none
// is (false): kill(2) returns before the target's threads have actually stopped, and a frozen
// host must not answer one more request. The check is WaitPIDsStopped's.
func (p *Proc) WaitStopped(ctx context.Context, stopped bool) error {
	if !p.Running() {
		return fmt.Errorf("%s: %w", p.Name, ErrNotRunning)
	}
	if err := WaitPIDsStopped(ctx, stopped, p.Pid()); err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	return nil
}
