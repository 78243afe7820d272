package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/topology"
)

// A data sidecar may own its mongod (process.controller exec or command; the recovery issue,
// deliverable 1). Then:
//
//   - Run starts mongod through the controller, unless one already listens on the local port
//     (left running by a previous run of this sidecar, or started by hand): that one is adopted,
//     watched like any mongod, and started through the controller once it is seen gone.
//   - An exit the sidecar did not ask for (a crash, a kill) is first-hand news: the sidecar looks
//     at the local port at once (checkLocalPort, the same proof the idle-connection watch uses),
//     so the peers hear "refused" without waiting for the next probe, and the controller
//     restarts mongod after its backoff.
//   - A fence stops mongod through the controller, which keeps it down (no restart) until the
//     sidecar starts it again: a restart of a fenced mongod is a recovery decision.
//   - When the sidecar stops, mongod is left running: restarting rsguard (an upgrade, a changed
//     identity) must not take the database down, let alone a primary. The next run adopts it.

// processMetrics are the controller's metrics.
type processMetrics struct {
	exits   *prometheus.CounterVec
	running prometheus.Gauge
}

func newProcessMetrics(reg prometheus.Registerer) *processMetrics {
	f := promauto.With(reg)
	return &processMetrics{
		exits: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rsguard_supervisor_mongod_exits_total",
			Help: "Exits of the local mongod seen by the process controller, by whether the sidecar asked for them (wanted: true after a stop or a fence).",
		}, []string{"wanted"}),
		running: f.NewGauge(prometheus.GaugeOpts{
			Name: "rsguard_supervisor_mongod_running",
			Help: "1 while the process controller's mongod runs (or an adopted one answers), 0 otherwise; absent without a controller.",
		}),
	}
}

// newController builds the configured process controller, or nil for controller none.
func newController(logger *slog.Logger, p config.Process) (recovery.Controller, error) {
	switch p.Controller {
	case config.ControllerExec:
		e := p.Exec
		opts := recovery.ExecOptions{Path: e.Path, Args: e.Args, Dir: e.Dir, Env: e.Env, LogPath: e.Arg("--logpath"),
			MinBackoff: p.MinBackoff, MaxBackoff: p.MaxBackoff, CrashWindow: p.CrashWindow, StopTimeout: p.StopTimeout}
		if e.Output != "" {
			f, err := os.OpenFile(e.Output, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
			if err != nil {
				return nil, fmt.Errorf("supervisor: process.exec.output: %w", err)
			}
			opts.Stdout, opts.Stderr = f, f
		}
		return recovery.NewExecController(logger, opts)
	case config.ControllerSystemd:
		sd := p.Systemd
		return recovery.NewSystemdController(logger, recovery.SystemdOptions{Unit: sd.Unit, Systemctl: sd.Systemctl, Journalctl: sd.Journalctl,
			Timeout: sd.Timeout, Poll: sd.Poll, MinBackoff: p.MinBackoff, MaxBackoff: p.MaxBackoff, CrashWindow: p.CrashWindow})
	case config.ControllerCommand:
		c := p.Command
		return recovery.NewCommandController(logger, recovery.CommandOptions{Start: c.Start, Stop: c.Stop, Status: c.Status,
			Timeout: c.Timeout, Poll: c.Poll, MinBackoff: p.MinBackoff, MaxBackoff: p.MaxBackoff, CrashWindow: p.CrashWindow})
	}
	return nil, nil
}

// runProcess starts (or adopts) the local mongod and handles the controller's exit events until
// ctx is done.
func (s *Supervisor) runProcess(ctx context.Context) {
	ctrl := s.ctrl
	if s.resyncHoldsProcess() {
		s.logger.Warn("a resync of the local member resumes: it starts mongod when its plan says so", "mongod", s.selfHost)
	} else if s.localListening(ctx) {
		s.logger.Info("a mongod already listens on the local port: adopting it; the controller starts one when it is gone",
			"mongod", s.selfHost)
		s.setAdopted(true)
	} else if err := ctrl.Start(ctx); err != nil {
		s.logger.Error("cannot start the local mongod", "mongod", s.selfHost, "err", err)
	}
	s.procMetrics.running.Set(b2f(ctrl.Process().Running || s.adopted()))
	tick := time.NewTicker(s.probeInterval())
	defer tick.Stop()
	// A stopping sidecar ends its controller's restart loop (recovery.ExecController.Release):
	// the loop outlives the contexts of the steps that start mongod, not the sidecar.
	if r, ok := ctrl.(interface{ Release() }); ok {
		defer r.Release()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if s.paused() {
				continue // a pause holds every restart (pause_process.go)
			}
			s.releaseAfterPause(ctx)
			s.startIfAdoptedGone(ctx)
			s.restartIfFenceOver(ctx)
		case e := <-ctrl.Exits():
			s.procMetrics.exits.WithLabelValues(fmt.Sprint(e.Wanted)).Inc()
			s.procMetrics.running.Set(0)
			if e.Wanted {
				s.logger.Info("local mongod stopped", "mongod", s.selfHost, "err", e.Err)
				continue
			}
			s.logger.Warn("local mongod exited: looking at its port now", "mongod", s.selfHost, "err", e.Err)
			s.holdForPause(ctx)
			s.checkLocalPort(ctx)
			s.kickDecide()
		}
	}
}

// localListening reports whether something accepts connections on the local mongod's port.
func (s *Supervisor) localListening(ctx context.Context) bool {
	pc, timeout, ok := s.portChecker(ctx, s.selfHost)
	if !ok {
		return false
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return pc.Reach(rctx) == nil
}

// startIfAdoptedGone starts mongod through the controller once the adopted one is seen refused
// (nothing listens: it is gone), unless it was fenced.
func (s *Supervisor) startIfAdoptedGone(ctx context.Context) {
	if !s.adopted() || s.fenced.Load() || s.resyncHoldsProcess() {
		return
	}
	s.mu.Lock()
	gone := s.local.usable && !s.local.view.Reachable && s.local.view.Failure == topology.FailureRefused
	s.mu.Unlock()
	if !gone {
		return
	}
	s.setAdopted(false)
	s.logger.Warn("the adopted local mongod is gone: starting one through the controller", "mongod", s.selfHost)
	if err := s.ctrl.Start(ctx); err != nil {
		s.logger.Error("cannot start the local mongod", "mongod", s.selfHost, "err", err)
		return
	}
	s.procMetrics.running.Set(1)
}

// ProcessStatus is the status report's account of the local mongod's process.
type ProcessStatus struct {
	Controller  string    `json:"controller"`
	Running     bool      `json:"running"`
	Pid         int       `json:"pid,omitempty"`
	StartedAt   time.Time `json:"started_at,omitzero"`
	RecentExits int       `json:"recent_exits"`
	LastExit    string    `json:"last_exit,omitempty"`
	// Adopted: the mongod was already running when the sidecar started; the controller starts a
	// new one only once it is gone.
	Adopted bool `json:"adopted,omitempty"`
	// Fenced: stopped by a fence, and kept down until recovery starts it again.
	Fenced bool `json:"fenced,omitempty"`
}

// processStatus is nil without a controller.
func (s *Supervisor) processStatus() *ProcessStatus {
	if s.ctrl == nil {
		return nil
	}
	p := s.ctrl.Process()
	return &ProcessStatus{Controller: string(s.cfg.Process.Controller), Running: p.Running || s.adopted(), Pid: p.Pid,
		StartedAt: p.StartedAt, RecentExits: p.RecentExits, LastExit: p.LastFatal, Adopted: s.adopted(), Fenced: s.fenced.Load()}
}

func (s *Supervisor) adopted() bool     { return s.adopt.Load() }
func (s *Supervisor) setAdopted(v bool) { s.adopt.Store(v) }

// fenceLocal stops the local mongod so that it stays down: through the controller when there is
// one (a shutdown command first for an adopted mongod, which is not the controller's child),
// else with shutdown {force} (spec §6.9).
func (s *Supervisor) fenceLocal(ctx context.Context, shutdown func(context.Context) error) error {
	if s.ctrl == nil {
		return shutdown(ctx)
	}
	s.mu.Lock()
	s.fencedTerm, s.fencedAt = s.local.view.Term, s.now()
	s.mu.Unlock()
	s.fenced.Store(true)
	if s.adopted() {
		if err := shutdown(ctx); err != nil {
			return err
		}
	}
	if err := s.ctrl.Stop(ctx); err != nil {
		return fmt.Errorf("supervisor: stop the local mongod: %w", err)
	}
	return nil
}

// ActionRestartFenced is the audit action of restarting a fenced mongod.
const ActionRestartFenced election.ActionKind = "restart_fenced"

// ReasonFenceOver: a newer-term primary has been healthy for failover.election_quiet since the
// fence: the fenced member can only rejoin as a SECONDARY (and roll back what it alone took).
const ReasonFenceOver election.Reason = "newer_primary_healthy"

// restartIfFenceOver is recovery's decision for a fenced mongod: it stays down until the set has
// a healthy primary in a newer term than the one the fenced member claimed, for the election
// quiet period; then the controller starts it and it rejoins as SECONDARY (spec §7.7 if it took
// writes nobody else has; the rollback archive keeps them).
func (s *Supervisor) restartIfFenceOver(ctx context.Context) {
	if !s.fenced.Load() {
		return
	}
	now := s.now()
	s.mu.Lock()
	a := s.decision.Decision.Analysis
	quiet := s.policy.ElectionQuiet
	settled := false
	if snap := s.lastSnap; snap != nil {
		until, _ := election.QuietUntil(*snap, s.policy)
		settled = !until.After(now)
	}
	over := a.Kind == election.Healthy && a.Primary != "" && a.Primary != s.selfHost && a.Term > s.fencedTerm &&
		now.Sub(s.fencedAt) >= quiet && settled
	ev := fmt.Sprintf("fenced in term %d at %s; primary %s healthy in term %d, its election quiet period over", s.fencedTerm,
		s.fencedAt.Format(time.RFC3339), a.Primary, a.Term)
	set := s.cfg.ReplicaSet
	s.mu.Unlock()
	if !over {
		return
	}
	err := s.ctrl.Start(ctx)
	rec := AuditRecord{Time: now, Sidecar: s.id, Set: set, Actor: actorAuto, Reason: ReasonFenceOver,
		Decision: AuditDecision{Action: ActionRestartFenced, Target: s.selfHost, Executor: s.id},
		Analysis: AuditAnalysis{Kind: a.Kind, Primary: a.Primary, Term: a.Term, Evidence: []string{ev}}, Result: ResultExecuted}
	if err != nil {
		rec.Result = resultFailed + err.Error()
		s.writeAudit(rec)
		s.logger.Error("cannot restart the fenced mongod", "err", err)
		return
	}
	s.fenced.Store(false)
	s.procMetrics.running.Set(1)
	s.writeAudit(rec)
	s.logger.Warn("fenced mongod restarted: a newer primary is healthy", "mongod", s.selfHost, "evidence", ev)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// resyncController is the controller a resync drives: the process controller, made safe for a
// mongod the sidecar adopted (not its child): Stop shuts it down with a command first and waits
// until its port refuses, so that the dbpath is never moved under a running mongod.
type resyncController struct{ s *Supervisor }

func (c resyncController) Start(ctx context.Context) error {
	c.s.setAdopted(false)
	return c.s.ctrl.Start(ctx)
}

func (c resyncController) Stop(ctx context.Context) error {
	s := c.s
	if s.adopted() {
		if node, err := s.nodes.get(ctx, s.selfHost); err == nil {
			_ = node.Shutdown(ctx, true, fenceShutdownSecs) // an error may be the connection closing
		}
		s.setAdopted(false) // the resync starts the next one
	}
	if err := s.ctrl.Stop(ctx); err != nil {
		return err
	}
	for ctx.Err() == nil {
		if !s.localListening(ctx) {
			return nil
		}
		s.sleep(ctx, 200*time.Millisecond)
	}
	return fmt.Errorf("supervisor: the local mongod still listens after the stop: %w", ctx.Err())
}

func (c resyncController) Process() recovery.Process   { return c.s.ctrl.Process() }
func (c resyncController) Exits() <-chan recovery.Exit { return c.s.ctrl.Exits() }
