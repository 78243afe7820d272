package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"time"
)

// CommandOptions configure a CommandController: the user's own scripts start, stop and check
// mongod (a init script, a container runtime, a remote agent). Each is an argv, not a shell line.
type CommandOptions struct {
	Start, Stop, Status []string
	// Timeout bounds each script run.
	Timeout time.Duration
	// Poll is how often Status runs to notice an exit the scripts did not cause.
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait before Start is run again after an exit;
	// CrashWindow is the window of ExecOptions.
	MinBackoff, MaxBackoff time.Duration
	CrashWindow            time.Duration
	Now                    func() time.Time
}

// CommandController runs mongod through user scripts: Status exiting 0 means running. Exits are
// noticed within one Poll; while wanted, Start is run again with backoff.
type CommandController struct {
	logger *slog.Logger
	opts   CommandOptions
	exits  chan Exit

	// alive says whether mongod runs and, when not, how it ended (nil: cleanly or unknown):
	// the status script, unless a controller built on this one (SystemdController) asks its
	// own source.
	alive func(ctx context.Context) (bool, error)

	mu      sync.Mutex
	want    bool
	stop    chan struct{}
	done    chan struct{}
	proc    Process
	exitsAt []time.Time
}

// NewCommandController checks the options; nothing runs before Start.
func NewCommandController(logger *slog.Logger, opts CommandOptions) (*CommandController, error) {
	for name, argv := range map[string][]string{"start": opts.Start, "stop": opts.Stop, "status": opts.Status} {
		if len(argv) == 0 || argv[0] == "" {
			return nil, fmt.Errorf("recovery: command controller: no %s command", name)
		}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	e := ExecOptions{MinBackoff: opts.MinBackoff, MaxBackoff: opts.MaxBackoff, CrashWindow: opts.CrashWindow, Now: opts.Now}.withDefaults()
	opts.MinBackoff, opts.MaxBackoff, opts.CrashWindow, opts.Now = e.MinBackoff, e.MaxBackoff, e.CrashWindow, e.Now
	c := &CommandController{logger: logger, opts: opts, exits: make(chan Exit, 16), proc: Process{Known: true}}
	c.alive = c.statusScript
	return c, nil
}

// Exits implements Controller.
func (c *CommandController) Exits() <-chan Exit { return c.exits }

// Process implements Controller.
func (c *CommandController) Process() Process {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.proc
	p.RecentExits = countSince(c.exitsAt, c.opts.Now(), c.opts.CrashWindow)
	return p
}

func (c *CommandController) run(ctx context.Context, what string, argv []string) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("recovery: %s command %q: %w (output: %.200s)", what, argv, err, out)
	}
	return nil
}

func (c *CommandController) statusScript(ctx context.Context) (bool, error) {
	if c.run(ctx, "status", c.opts.Status) != nil {
		return false, errors.New("status command reports mongod not running")
	}
	return true, nil
}

func (c *CommandController) running(ctx context.Context) bool {
	up, _ := c.alive(ctx)
	return up
}

// Start runs the start script unless Status says mongod runs, and watches it until Stop.
func (c *CommandController) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.want {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if !c.running(ctx) {
		if err := c.run(ctx, "start", c.opts.Start); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.want = true
	c.proc.Running, c.proc.StartedAt = true, c.opts.Now()
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go c.watch(ctx, c.stop, c.done)
	return nil
}

// watch polls Status; an exit it did not cause is reported and answered with Start after backoff,
// unless mongod runs again by then.
func (c *CommandController) watch(ctx context.Context, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(c.opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-t.C:
		}
		up, how := c.alive(ctx)
		if up {
			continue
		}
		now := c.opts.Now()
		c.mu.Lock()
		if !c.want {
			c.mu.Unlock()
			return
		}
		c.proc.Running = false
		c.exitsAt = append(c.exitsAt, now)
		wait := backoff(c.opts.MinBackoff, c.opts.MaxBackoff, countSince(c.exitsAt, now, c.opts.CrashWindow))
		c.mu.Unlock()
		c.report(Exit{At: now, Err: how})
		c.logger.Warn("mongod not running; starting it again", "after", wait, "err", how)
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-time.After(wait):
		}
		if c.running(ctx) {
			// Someone else brought it back during the backoff (systemd's Restart=, a container
			// restart policy): a second start is not ours to make.
			c.mu.Lock()
			c.proc.Running, c.proc.StartedAt = true, c.opts.Now()
			c.mu.Unlock()
			c.logger.Info("mongod runs again without a start from us")
			continue
		}
		if err := c.run(ctx, "start", c.opts.Start); err != nil {
			c.mu.Lock()
			c.proc.LastFatal = err.Error()
			c.mu.Unlock()
			c.logger.Error("cannot start mongod", "err", err)
			continue
		}
		c.mu.Lock()
		c.proc.Running, c.proc.StartedAt = true, c.opts.Now()
		c.mu.Unlock()
	}
}

// Stop stops watching, then runs the stop script: mongod stays down until Start.
func (c *CommandController) Stop(ctx context.Context) error {
	c.mu.Lock()
	if c.want {
		close(c.stop)
	}
	c.want = false
	done := c.done
	c.mu.Unlock()
	if done != nil {
		<-done
	}
	if err := c.run(ctx, "stop", c.opts.Stop); err != nil {
		return err
	}
	c.mu.Lock()
	c.proc.Running = false
	c.mu.Unlock()
	c.report(Exit{At: c.opts.Now(), Wanted: true})
	return nil
}

func (c *CommandController) report(e Exit) { reportExit(c.logger, c.exits, e) }
