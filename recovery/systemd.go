package recovery

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"time"
)

// SystemdOptions configure a SystemdController: mongod is a systemd service unit (the packages'
// mongod.service), started and stopped with systemctl and watched with systemctl show.
type SystemdOptions struct {
	// Unit is the service unit, e.g. "mongod.service" or "mongod@rs0.service".
	Unit string
	// Systemctl and Journalctl are the commands, looked up in PATH when not absolute (defaults
	// "systemctl" and "journalctl"). journalctl is optional: without it LastFatal is the exit
	// status only.
	Systemctl, Journalctl string
	// Timeout bounds each systemctl or journalctl run; Poll is how often the unit is shown.
	Timeout time.Duration
	Poll    time.Duration
	// MinBackoff, MaxBackoff and CrashWindow are those of CommandOptions.
	MinBackoff, MaxBackoff time.Duration
	CrashWindow            time.Duration
	Now                    func() time.Time
}

// SystemdController runs mongod as a systemd unit. It is a CommandController whose scripts are
// systemctl start and stop and whose status is systemctl show, parsed for the main PID and how
// the main process ended: the same loop, so the same guarantees (an exit it did not cause is on
// Exits within a Poll and answered with a start after backoff; after Stop the unit stays down
// until Start). When the unit's own Restart= has brought it back before the backoff ends, no
// second start is issued. A restart systemd made between two polls (a new MainPID) counts as
// an exit too, so a crash loop under Restart=always still shows in RecentExits.
type SystemdController struct {
	logger     *slog.Logger
	unit       string
	systemctl  string
	journalctl string
	timeout    time.Duration
	showArgs   []string
	cmd        *CommandController

	mu sync.Mutex
	// up and pid are what the last show found: the unit running, its MainPID (0 if not).
	up  bool
	pid int
	// fatal is the last fatal line of the journal, or how the main process ended.
	fatal string
}

// NewSystemdController checks the unit name and finds systemctl; nothing runs before Start.
func NewSystemdController(logger *slog.Logger, opts SystemdOptions) (*SystemdController, error) {
	if !unitName.MatchString(opts.Unit) {
		return nil, fmt.Errorf("recovery: systemd controller: unit %q is not a service unit name (like \"mongod.service\")", opts.Unit)
	}
	if opts.Systemctl == "" {
		opts.Systemctl = "systemctl"
	}
	if opts.Journalctl == "" {
		opts.Journalctl = "journalctl"
	}
	systemctl, err := exec.LookPath(opts.Systemctl)
	if err != nil {
		return nil, fmt.Errorf("recovery: systemd controller: systemctl %q: %w", opts.Systemctl, err)
	}
	journalctl, err := exec.LookPath(opts.Journalctl)
	if err != nil {
		logger.Warn("journalctl not found: a failed mongod's fatal log line will not be read", "journalctl", opts.Journalctl, "err", err)
		journalctl = ""
	}
	showArgs := []string{"show", opts.Unit}
	for _, p := range unitProperties {
		showArgs = append(showArgs, "-p", p)
	}
	cmd, err := NewCommandController(logger, CommandOptions{
		Start: []string{systemctl, "start", opts.Unit}, Stop: []string{systemctl, "stop", opts.Unit}, Status: append([]string{systemctl}, showArgs...),
		Timeout: opts.Timeout, Poll: opts.Poll, MinBackoff: opts.MinBackoff, MaxBackoff: opts.MaxBackoff,
		CrashWindow: opts.CrashWindow, Now: opts.Now,
	})
	if err != nil {
		return nil, err
	}
	s := &SystemdController{logger: logger.With("unit", opts.Unit), unit: opts.Unit, systemctl: systemctl,
		journalctl: journalctl, timeout: cmd.opts.Timeout, showArgs: showArgs, cmd: cmd}
	cmd.alive = s.alive
	return s, nil
}

// Start implements Controller: systemctl start unless the unit runs, then watch it.
func (s *SystemdController) Start(ctx context.Context) error { return s.cmd.Start(ctx) }

// Stop implements Controller: systemctl stop; the unit stays down until Start.
func (s *SystemdController) Stop(ctx context.Context) error {
	if err := s.cmd.Stop(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.up, s.pid = false, 0
	s.mu.Unlock()
	return nil
}

// Exits implements Controller.
func (s *SystemdController) Exits() <-chan Exit { return s.cmd.Exits() }

// Process implements Controller: the command loop's account, with the unit's MainPID and the
// fatal error systemd and the journal gave.
func (s *SystemdController) Process() Process {
	p := s.cmd.Process()
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Running {
		p.Pid = s.pid
	}
	if s.fatal != "" {
		p.LastFatal = s.fatal
	}
	return p
}

// alive is the command loop's status: systemctl show. A show that fails says nothing about
// mongod (D-Bus busy, a timeout): the last answer stands, so that a slow systemd is not a crash.
func (s *SystemdController) alive(ctx context.Context) (bool, error) {
	u, err := s.show(ctx)
	if err != nil {
		s.logger.Warn("cannot show the unit; keeping its last state", "err", err)
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.up, nil
	}
	var how error
	fatal := ""
	if !u.running() {
		if how = u.ended(); how != nil {
			fatal = how.Error()
			if line := s.journalFatal(ctx, u.Invocation); line != "" {
				fatal = line
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.pid
	s.up, s.pid = u.running(), 0
	if !s.up {
		if how == nil {
			return false, nil
		}
		s.fatal = fatal
		return false, fmt.Errorf("unit %s is %s (%s): %w", s.unit, u.Active, u.Sub, how)
	}
	s.pid = u.MainPID
	if prev != 0 && u.MainPID != 0 && u.MainPID != prev {
		return false, fmt.Errorf("unit %s: main process %d gone, systemd runs %d now", s.unit, prev, u.MainPID)
	}
	return true, nil
}

func (s *SystemdController) show(ctx context.Context) (unitState, error) {
	out, err := s.output(ctx, s.systemctl, s.showArgs...)
	if err != nil {
		return unitState{}, err
	}
	u, err := parseShow(out)
	if err != nil {
		return unitState{}, fmt.Errorf("recovery: systemctl show %s: %w", s.unit, err)
	}
	return u, nil
}

// journalFatal is the last fatal line mongod logged to the journal in the run that just ended,
// "" when none or unreadable (mongod usually logs to a file). Only that run's lines count: a
// fatal line left from an earlier run (an old UnrecoverableRollbackError) would make Classify
// call for a resync, so without an InvocationID the journal is not read.
func (s *SystemdController) journalFatal(ctx context.Context, invocation string) string {
	if s.journalctl == "" || !invocationID.MatchString(invocation) {
		return ""
	}
	out, err := s.output(ctx, s.journalctl, "_SYSTEMD_INVOCATION_ID="+invocation, "-n", "20", "--no-pager", "-o", "cat")
	if err != nil {
		s.logger.Debug("cannot read the unit's journal", "err", err)
		return ""
	}
	return lastFatalLine(out)
}

func (s *SystemdController) output(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return "", fmt.Errorf("recovery: %s %q: %w", name, args, err)
	}
	return string(out), nil
}
