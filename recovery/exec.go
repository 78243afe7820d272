package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// ExecOptions configure an ExecController.
type ExecOptions struct {
	// Path and Args are the mongod binary and its arguments.
	Path string
	Args []string
	// Dir is the working directory; Env the extra environment (KEY=VALUE).
	Dir string
	Env []string
	// Stdout and Stderr receive the child's output (nil: discarded).
	Stdout, Stderr *os.File
	// MinBackoff and MaxBackoff bound the wait before a restart after a crash; the wait doubles
	// with every exit within CrashWindow and resets after a run longer than it.
	MinBackoff, MaxBackoff time.Duration
	CrashWindow            time.Duration
	// LogPath is mongod's --logpath: on an exit, the last error or fatal line of its log becomes
	// Process.LastFatal (what the classification reads: a corrupt dbpath, an unrecoverable
	// rollback). Empty: the exit status only.
	LogPath string
	// StopTimeout is how long Stop waits after SIGTERM (mongod shuts down cleanly on it) before
	// SIGKILL.
	StopTimeout time.Duration
	Now         func() time.Time
}

func (o ExecOptions) withDefaults() ExecOptions {
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.CrashWindow <= 0 {
		o.CrashWindow = 5 * time.Minute
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 60 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// ExecController runs mongod as the sidecar's child: it knows of a crash the instant the child
// exits (Exits), restarts it with backoff while wanted, and keeps it down after Stop.
type ExecController struct {
	logger *slog.Logger
	opts   ExecOptions
	exits  chan Exit

	mu      sync.Mutex
	want    bool
	cmd     *exec.Cmd
	done    chan struct{} // closed when the supervising goroutine returns
	stop    chan struct{} // closed by Stop: ends a backoff wait at once
	proc    Process
	exitsAt []time.Time

	released    chan struct{} // closed by Release: no more restarts
	releaseOnce sync.Once
}

// NewExecController checks the options; nothing runs before Start.
func NewExecController(logger *slog.Logger, opts ExecOptions) (*ExecController, error) {
	if opts.Path == "" {
		return nil, errors.New("recovery: exec controller: no mongod path")
	}
	return &ExecController{logger: logger, opts: opts.withDefaults(), exits: make(chan Exit, 16),
		proc: Process{Known: true}, released: make(chan struct{})}, nil
}

// Exits implements Controller. The channel is buffered; events are dropped (and logged) rather
// than block the controller when nobody reads.
func (c *ExecController) Exits() <-chan Exit { return c.exits }

// Process implements Controller.
func (c *ExecController) Process() Process {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.proc
	p.RecentExits = c.recentExitsLocked(c.opts.Now())
	return p
}

// Start starts mongod unless it runs already, and keeps restarting it after crashes until Stop
// or Release. ctx bounds the start only: callers start mongod from a step with a deadline (a
// resync's start step, a resume), and a restart loop tied to that deadline died with it, leaving
// the controller "wanting" a mongod it never restarted again.
func (c *ExecController) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("recovery: start %s: %w", c.opts.Path, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.want {
		return nil
	}
	if err := c.spawnLocked(); err != nil {
		return err
	}
	c.want = true
	c.done, c.stop = make(chan struct{}), make(chan struct{})
	go c.supervise(c.cmd, c.done, c.stop)
	return nil
}

// Release ends the restart loop without touching the running mongod: the sidecar calls it when
// it shuts down, so that no goroutine of a stopped sidecar starts mongod again. Start after
// Release restarts nothing either.
func (c *ExecController) Release() {
	c.releaseOnce.Do(func() { close(c.released) })
}

func (c *ExecController) spawnLocked() error {
	cmd := exec.Command(c.opts.Path, c.opts.Args...)
	cmd.Dir = c.opts.Dir
	cmd.Env = append(os.Environ(), c.opts.Env...)
	if c.opts.Stdout != nil {
		cmd.Stdout = c.opts.Stdout
	}
	if c.opts.Stderr != nil {
		cmd.Stderr = c.opts.Stderr
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("recovery: start %s: %w", c.opts.Path, err)
	}
	c.cmd = cmd
	c.proc.Running, c.proc.StartedAt, c.proc.Pid = true, c.opts.Now(), cmd.Process.Pid
	c.logger.Info("mongod started", "pid", cmd.Process.Pid, "path", c.opts.Path)
	return nil
}

// supervise waits for each child, reports its exit, and restarts it with backoff while wanted.
func (c *ExecController) supervise(cmd *exec.Cmd, done, stop chan struct{}) {
	defer close(done)
	for {
		err := cmd.Wait()
		now := c.opts.Now()
		c.mu.Lock()
		wanted := !c.want
		c.proc.Running, c.proc.Pid = false, 0
		if err != nil {
			c.proc.LastFatal = err.Error()
			if line := lastLogError(c.opts.LogPath); line != "" {
				c.proc.LastFatal = line + " (" + err.Error() + ")"
			}
		}
		if !wanted {
			c.exitsAt = append(c.exitsAt, now)
		}
		backoff := c.backoffLocked(now)
		c.mu.Unlock()
		c.report(Exit{At: now, Err: err, Wanted: wanted})
		if wanted {
			return
		}
		c.logger.Warn("mongod exited; restarting", "err", err, "after", backoff)
		select {
		case <-c.released:
			return
		case <-stop:
			return
		case <-time.After(backoff):
		}
		c.mu.Lock()
		if !c.want {
			c.mu.Unlock()
			return
		}
		if err := c.spawnLocked(); err != nil {
			c.mu.Unlock()
			c.logger.Error("cannot restart mongod", "err", err)
			return
		}
		cmd = c.cmd
		c.mu.Unlock()
	}
}

func (c *ExecController) report(e Exit) { reportExit(c.logger, c.exits, e) }

func (c *ExecController) recentExitsLocked(now time.Time) int {
	return countSince(c.exitsAt, now, c.opts.CrashWindow)
}

func (c *ExecController) backoffLocked(now time.Time) time.Duration {
	return backoff(c.opts.MinBackoff, c.opts.MaxBackoff, c.recentExitsLocked(now))
}

// Stop ends mongod with SIGTERM (SIGKILL after StopTimeout) and keeps it down until Start.
func (c *ExecController) Stop(ctx context.Context) error {
	c.mu.Lock()
	if c.want {
		close(c.stop)
	}
	c.want = false
	cmd, done := c.cmd, c.done
	c.mu.Unlock()
	if cmd == nil || done == nil {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(c.opts.StopTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		_ = cmd.Process.Kill()
	case <-ctx.Done():
		_ = cmd.Process.Kill()
	}
	<-done
	if ctx.Err() != nil {
		return fmt.Errorf("recovery: stop mongod: %w", ctx.Err())
	}
	return nil
}
