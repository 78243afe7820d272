package supervisor

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/topology"
)

// Automatic resync (the recovery issue, deliverable 4). Each data sidecar classifies its own
// member (recovery.Classify); when the kind calls for a resync, recovery.DecideResync applies the
// guards, and a resync that may start first claims the set's lease in the shared memory, waits a
// gossip round and checks that no other member claimed first (election.ResyncHolder), then runs
// the persisted plan (recovery.Resyncer) one tick at a time, renewing the lease, until the member
// is SECONDARY within recovery.resync_max_lag. A plan found in state_dir at start resumes.
//
// Failure cases of the lease: gossip carries it, so two members cut off from each other could
// both resync; each still needs a healthy primary ahead of it (the data guard), which a set split
// in two gives to one side at most. A sidecar that dies mid-resync stops renewing its lease, which
// lapses after resyncLease; it resumes its plan when it comes back.

// resyncLease is how long a resync lease holds without renewal.
const resyncLease = 30 * time.Second

// Audit vocabulary of resyncs.
const (
	ActionResync election.ActionKind = "resync"
)

// resyncState is the sidecar's resync bookkeeping; guarded by Supervisor.mu.
type resyncState struct {
	plan     *recovery.ResyncPlan
	last     *recovery.ResyncPlan  // the last plan that ended, for the status
	claim    topology.ResyncRecord // our lease while claiming or running
	claimAt  time.Time
	refusal  recovery.ResyncReason // the last refusal audited
	resyncer *recovery.Resyncer
}

type resyncMetrics struct {
	active   prometheus.Gauge
	progress prometheus.Gauge
	eta      prometheus.Gauge
	results  *prometheus.CounterVec
	refusals *prometheus.CounterVec
}

func newResyncMetrics(reg prometheus.Registerer) *resyncMetrics {
	f := promauto.With(reg)
	return &resyncMetrics{
		active: f.NewGauge(prometheus.GaugeOpts{Name: "rsguard_supervisor_resync_active",
			Help: "1 while this sidecar resyncs its member (from the claim to the end of the plan)."}),
		progress: f.NewGauge(prometheus.GaugeOpts{Name: "rsguard_supervisor_resync_progress_ratio",
			Help: "Share of the data the running initial sync has copied (approxTotalBytesCopied / approxTotalDataSize), 0..1."}),
		eta: f.NewGauge(prometheus.GaugeOpts{Name: "rsguard_supervisor_resync_remaining_seconds",
			Help: "mongod's estimate of the running initial sync's remaining time (remainingInitialSyncEstimatedMillis)."}),
		results: f.NewCounterVec(prometheus.CounterOpts{Name: "rsguard_supervisor_resyncs_total",
			Help: "Resyncs that ended, by result (done, failed)."}, []string{"result"}),
		refusals: f.NewCounterVec(prometheus.CounterOpts{Name: "rsguard_supervisor_resync_refusals_total",
			Help: "Resyncs needed but refused, by reason code (counted per tick)."}, []string{"reason"}),
	}
}

// ResyncStatus is the status report's resync section.
type ResyncStatus struct {
	// Plan is the running resync (or the one that just ended), with its step and progress.
	Plan *recovery.ResyncPlan `json:"plan,omitempty"`
	// Refused is the reason code of the last refusal of a needed resync, while no plan runs.
	Refused recovery.ResyncReason `json:"refused,omitempty"`
}

func (s *Supervisor) resyncStatusLocked() *ResyncStatus {
	refused := s.rs.refusal
	if refused == recovery.RefusedResyncNotNeeded {
		refused = ""
	}
	switch {
	case s.rs.plan != nil:
		p := *s.rs.plan
		return &ResyncStatus{Plan: &p}
	case s.rs.last != nil:
		p := *s.rs.last
		return &ResyncStatus{Plan: &p, Refused: refused}
	case refused != "":
		return &ResyncStatus{Refused: refused}
	}
	return nil
}

// resumeResync loads a plan left by an earlier run; called by New.
func (s *Supervisor) resumeResync() error {
	p, ok, err := recovery.LoadResyncPlan(s.cfg.StateDir)
	if err != nil || !ok || p.Step.Finished() {
		return err
	}
	s.rs.plan = &p
	s.rs.claim = topology.ResyncRecord{Member: s.selfHost, By: s.id, Started: p.Started}
	s.logger.Warn("resuming the resync of the local member", "plan", p.ID, "step", p.Step)
	return nil
}

// resyncHoldsProcess reports whether a resync owns the local mongod's process: from its stop
// until its start, nobody else may start it.
func (s *Supervisor) resyncHoldsProcess() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.rs.plan
	return p != nil && (p.Step == recovery.StepStop || p.Step == recovery.StepMoveAside || p.Step == recovery.StepStart)
}

// resyncTick runs once per archive interval in data mode.
func (s *Supervisor) resyncTick(ctx context.Context) {
	now := s.now()
	s.mu.Lock()
	plan := s.rs.plan
	s.mu.Unlock()
	if plan != nil {
		s.advanceResync(ctx, *plan, now)
		return
	}
	in, status := s.resyncInput(now)
	d := recovery.DecideResync(in)
	s.mu.Lock()
	rc := s.cfg.Recovery
	s.mu.Unlock()
	if d.Start || d.Reason == recovery.RefusedResyncDryRun {
		d = decideWithDisk(&in, rc.DBPath)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rs.plan != nil {
		// An operator's resync started meanwhile (operator_run.go): its lease is not ours to drop.
		return
	}
	if len(s.notReady) > 0 && d.Start {
		// Not ready: observe and report, never act. A plan already running goes on (above).
		d = recovery.ResyncDecision{Reason: recovery.ResyncReason(ReasonNotReady), Evidence: append(d.Evidence, s.notReady...)}
	}
	if s.state.Paused() && d.Start {
		// Paused: no automatic resync starts (an operator's request still does). A plan already
		// running goes on: stopping it halfway leaves a member without data.
		p := s.state.Memory.Pause
		d = recovery.ResyncDecision{Reason: recovery.ResyncReason(election.RefusedPaused),
			Evidence: append(d.Evidence, "automatic actions are paused by "+p.By+": "+p.Why)}
	}
	if !d.Start {
		s.rs.claimAt = time.Time{}
		if s.rs.claim.Member != "" {
			s.releaseLeaseLocked(now)
		}
		if d.Reason != recovery.RefusedResyncNotNeeded {
			s.rsMetrics.refusals.WithLabelValues(string(d.Reason)).Inc()
		}
		if d.Reason != s.rs.refusal {
			s.rs.refusal = d.Reason
			if d.Reason != recovery.RefusedResyncNotNeeded {
				s.logger.Warn("resync needed but refused", "kind", status.Kind, "reason", d.Reason, "evidence", d.Evidence)
				s.auditResyncLocked(now, string(d.Reason), ResultRefused, d.Evidence)
			}
		}
		return
	}
	if s.rs.claimAt.IsZero() {
		// Claim, and look again after a gossip round: someone may have claimed at once.
		s.rs.claim = topology.ResyncRecord{Member: s.selfHost, By: s.id, Started: now, Until: now.Add(resyncLease)}
		s.rs.claimAt = now
		s.setStateLocked(s.state.RecordResync(s.rs.claim))
		s.rsMetrics.active.Set(1)
		go s.publish()
		return
	}
	if now.Sub(s.rs.claimAt) < 2*s.cfg.Probe.Interval {
		return
	}
	p := recovery.NewResyncPlan(s.selfHost, s.cfg.Recovery.DBPath, d, s.rs.claim.Started)
	if err := recovery.SaveResyncPlan(s.cfg.StateDir, p); err != nil {
		s.logger.Error("cannot save the resync plan", "err", err)
		return
	}
	s.rs.plan, s.rs.refusal = &p, ""
	s.logger.Warn("resync started", "plan", p.ID, "kind", status.Kind, "evidence", d.Evidence, "aside", p.Aside)
	s.auditResyncLocked(now, string(d.Reason), ResultExecuted+": started", d.Evidence)
}

// advanceResync runs the plan's next steps and renews (or at the end releases) the lease.
func (s *Supervisor) advanceResync(ctx context.Context, p recovery.ResyncPlan, now time.Time) {
	obs := s.syncObservation()
	actx, cancel := context.WithTimeout(ctx, s.cfg.Process.StopTimeout+30*time.Second)
	next, err := s.rs.resyncer.Advance(actx, p, obs)
	cancel()
	now = s.now() // a step may take a while (stopping mongod): the lease counts from its end
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rs.plan = &next
	s.rsMetrics.active.Set(1)
	s.rsMetrics.progress.Set(next.Progress.Fraction())
	s.rsMetrics.eta.Set(next.Progress.Remaining.Seconds())
	if err != nil {
		s.logger.Error("resync step failed", "plan", next.ID, "step", next.Step, "err", err)
	}
	if !next.Step.Finished() {
		s.rs.claim.Until = now.Add(resyncLease)
		s.setStateLocked(s.state.RecordResync(s.rs.claim))
		return
	}
	result := "done"
	if next.Step == recovery.StepFailed {
		result = "failed"
	}
	s.rsMetrics.results.WithLabelValues(result).Inc()
	s.rsMetrics.active.Set(0)
	s.releaseLeaseLocked(now)
	s.rs.plan, s.rs.last, s.rs.claimAt = nil, &next, time.Time{}
	ev := []string{fmt.Sprintf("plan %s: %s after %s; the old dbpath is kept at %s", next.ID, next.Step, next.Finished.Sub(next.Started).Round(time.Second), next.Aside)}
	if next.Error != "" {
		ev = append(ev, "last error: "+next.Error)
	}
	res := ResultExecuted + ": done"
	if result == "failed" {
		res = resultFailed + next.Error
	}
	s.logger.Warn("resync ended", "plan", next.ID, "result", result, "evidence", ev)
	s.auditResyncLocked(now, string(next.Reason), res, ev)
}

func (s *Supervisor) releaseLeaseLocked(now time.Time) {
	s.rs.claim.Until, s.rs.claim.Ended = now, true
	s.setStateLocked(s.state.RecordResync(s.rs.claim))
	s.rs.claim = topology.ResyncRecord{}
	s.rsMetrics.active.Set(0)
}

func (s *Supervisor) auditResyncLocked(now time.Time, reason, result string, ev []string) {
	rec := AuditRecord{Time: now, Sidecar: s.id, Set: s.cfg.ReplicaSet, Actor: actorAuto, Result: result,
		Decision: AuditDecision{Action: ActionResync, Target: s.selfHost, Executor: s.id},
		Reason:   election.Reason(reason), Analysis: AuditAnalysis{Evidence: ev}}
	go s.writeAudit(rec)
}

// resyncInput gathers the decision's input from the local observation, the latest decision and
// the shared memory.
func (s *Supervisor) resyncInput(now time.Time) (recovery.ResyncInput, recovery.Status) {
	var proc recovery.Process
	if s.ctrl != nil {
		proc = s.ctrl.Process()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rc := s.cfg.Recovery
	l := s.local
	o := recovery.Observation{Host: s.selfHost, Process: proc, Reachable: l.reachable(), State: l.view.State,
		TooStale: l.obs.Status.TooStale, ObservedAt: now}
	if is := l.obs.Status.InitialSync; is != nil && l.view.State == topology.StateStartup2 {
		o.InitialSync = &recovery.InitialSync{FailedAttempts: is.FailedAttempts, MaxAttempts: is.MaxFailedAttempts,
			BytesCopied: is.ApproxTotalBytesCopied, ApproxTotalBytes: is.ApproxTotalDataSize}
	}
	opts := recovery.DefaultOptions()
	opts.MaxLag = rc.ResyncMaxLag
	status := recovery.Classify(o, opts)
	in := recovery.ResyncInput{Self: s.selfHost, Status: status, Mode: string(rc.Resync), HasController: s.ctrl != nil,
		SelfOpTime: l.view.OpTime, InWindow: rc.InResyncWindow(now), Now: now,
		ResyncingElsewhere: election.ResyncHolder(s.state.Memory, s.selfHost, now)}
	if a := s.decision.Decision.Analysis; a.Kind == election.Healthy && a.Primary != s.selfHost {
		in.Primary = a.Primary
		for _, m := range l.obs.Status.Members {
			if m.Name == a.Primary {
				in.PrimaryOpTime = m.OpTime
			}
		}
		// Our mongod's last word on the primary may be old (it is down, or stuck): this sidecar's
		// own probe of the primary is fresher.
		if p := s.peers[a.Primary]; p != nil && p.optime.After(in.PrimaryOpTime) {
			in.PrimaryOpTime = p.optime
		}
	} else if a.Kind != election.Healthy {
		in.FailoverBusy = "the set's analysis is " + a.Kind.String()
	}
	// A failover is over once the set's analysis is healthy again: a writable primary every
	// quorum reaches. Unlike a failover, a resync does not wait out failover.election_quiet or
	// the pending timeout of the step-up that made that primary: it never touches the primary,
	// and the majority guard below keeps the set writable. The member a failover deposed is the
	// one most likely to need a resync, right after it.
	if l.obs.HasConfig {
		up := map[string]bool{}
		for _, m := range l.obs.Status.Members {
			if !m.Self && m.Health == 1 {
				up[m.Name] = true
			}
		}
		for _, m := range l.obs.Config.Members {
			if m.Votes > 0 {
				in.Voters++
				if m.Host != s.selfHost && up[m.Host] {
					in.VotersUpWithoutSelf++
				}
			}
		}
	}
	return in, status
}

// syncObservation is the local mongod as the resync's sync step needs it.
func (s *Supervisor) syncObservation() recovery.SyncObservation {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.local
	o := recovery.SyncObservation{Reachable: l.reachable(), State: l.view.State}
	if is := l.obs.Status.InitialSync; is != nil {
		o.Progress = recovery.ResyncProgress{BytesCopied: is.ApproxTotalBytesCopied, TotalBytes: is.ApproxTotalDataSize,
			Remaining: is.RemainingEstimated, Attempts: is.FailedAttempts}
	}
	for _, m := range l.obs.Status.Members {
		if m.State == topology.StatePrimary && !l.view.OpTime.IsNull() {
			o.Lag = l.view.OpTime.LagBehind(m.OpTime)
			o.Progress.LagSeconds = o.Lag.Seconds()
		}
	}
	return o
}

// decideWithDisk decides again with the disk guard's input: walking the dbpath costs, so it is
// done only once every other guard has passed.
func decideWithDisk(in *recovery.ResyncInput, dbpath string) recovery.ResyncDecision {
	if dbpath != "" {
		in.DiskNeeded = dirSize(dbpath)
		in.DiskFree = freeBytes(filepath.Dir(filepath.Clean(dbpath)))
	}
	return recovery.DecideResync(*in)
}

// dirSize is the bytes of the regular files under dir (0 when unreadable).
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// freeBytes is the space available to an unprivileged user on dir's file system.
func freeBytes(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
