package notify

import (
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

// Hook names, as in the configuration and the metrics' hook label.
const (
	HookPreFailover  = "pre_failover"
	HookPostFailover = "post_failover"
	HookOnResync     = "on_resync"
	HookOnRollback   = "on_rollback"
)

// VetoError is a pre_failover hook's no: it exited non-zero, could not be started, or ran out
// of time (with on_timeout: veto).
type VetoError struct {
	Hook string
	// ExitCode is the hook's exit status; -1 when it did not exit by itself (killed at the
	// timeout) or never started.
	ExitCode int
	TimedOut bool
	// Output is the end of the hook's combined stdout and stderr (DefaultOutputTail bytes).
	Output string
	// Err is why the hook could not be started, if so.
	Err error
}

func (e *VetoError) Error() string {
	var why string
	switch {
	case e.TimedOut:
		why = "timed out"
	case e.Err != nil:
		why = "could not start: " + e.Err.Error()
	default:
		why = fmt.Sprintf("exit code %d", e.ExitCode)
	}
	msg := fmt.Sprintf("%s hook vetoed the failover (%s)", e.Hook, why)
	if last := lastLine(e.Output); last != "" {
		msg += ": " + last
	}
	return msg
}

// Unwrap returns the start error, if any.
func (e *VetoError) Unwrap() error { return e.Err }

// run is the outcome of one hook run.
type run struct {
	result   string // hookOK, hookFailed, hookTimeout, hookError
	exitCode int
	output   string
	err      error
	took     time.Duration
}

// runHook runs h for ev and waits for it. The process gets its own process group, and at the
// timeout (or when ctx ends) the whole group is killed, so that a script's children do not
// outlive it holding a VIP or a lock.
func (n *Notifier) runHook(ctx context.Context, name string, h *Hook, ev Event) run {
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.Command[0], h.Command[1:]...)
	cmd.Dir = h.Dir
	cmd.Env = append(append(os.Environ(), h.Env...), ev.env()...) // later entries win
	out := &tail{max: DefaultOutputTail}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A grandchild that left the group may still hold the output pipe: stop waiting for it.
	cmd.WaitDelay = time.Second
	start := time.Now()
	err := cmd.Run()
	r := run{result: hookOK, output: out.String(), took: time.Since(start), exitCode: -1}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		r.exitCode = 0
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		r.result, r.err = hookTimeout, fmt.Errorf("timed out after %s", h.Timeout)
	case errors.As(err, &exitErr):
		r.result, r.exitCode, r.err = hookFailed, exitErr.ExitCode(), err
	default:
		r.result, r.err = hookError, err
	}
	n.metrics.hookRuns.WithLabelValues(name, r.result).Inc()
	n.metrics.hookDuration.WithLabelValues(name).Observe(r.took.Seconds())
	attrs := []any{"hook", name, "event", ev.ID, "kind", ev.Kind, "result", r.result, "exit_code", r.exitCode,
		"took", r.took, "output", r.output}
	if r.err != nil {
		n.logger.Warn("hook failed", append(attrs, "err", r.err)...)
	} else {
		n.logger.Info("hook ran", attrs...)
	}
	return r
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
	cut bool
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.ToValidUTF8(string(t.buf), "")
	if t.cut {
		return "..." + s
	}
	return s
}

// lastLine is the last non-empty line of s, shortened.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\n\r\t ")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.ToValidUTF8(strings.TrimSpace(s), "")
}
