package supervisor

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// Supervisor-level codes, in the same vocabulary as election's.
const (
	// ReasonNotReady: the sidecar is not ready (gossip unsettled, local mongod never answered or
	// not of this set), so it classifies for the status report but never acts.
	ReasonNotReady election.Reason = "refused_not_ready"
	// ReasonAcknowledged: an operator lifted the anti-flap block.
	ReasonAcknowledged election.Reason = "operator_acknowledged"
	// ReasonReadySettling: this sidecar became ready less than readySettle ago and would act for
	// another member's sidecar (a fallback executor): it waits until its peers' views are fresh.
	ReasonReadySettling election.Reason = "refused_ready_settling"
	// ActionAcknowledge is the audit log's action kind for an acknowledgement.
	ActionAcknowledge election.ActionKind = "acknowledge"
)

// readySettle is how long a sidecar that just became ready waits before it acts as a fallback
// executor: two gossip pushes (500 ms each), so that every peer's readiness it relies on is news.
const readySettle = time.Second

// decisionRecord is the latest decision, kept for the status report.
type decisionRecord struct {
	At       time.Time
	Decision election.Decision
}

// failoverClock measures rsguard_supervisor_failover_duration_seconds: from the first actionable
// analysis of an incident to a writable primary of another member or a newer term.
type failoverClock struct {
	start time.Time
	inc   election.Incident
}

// failoverGiveUp bounds how long an incident is timed; past it the clock resets silently.
const failoverGiveUp = 10 * time.Minute

// decide runs one tick: snapshot, readiness, Decide, record, execute.
func (s *Supervisor) decide(ctx context.Context) {
	views := s.gossip.Views()
	settled := s.gossip.Settled()
	now := s.now()
	s.mu.Lock()
	snap := s.snapshotLocked(views, now)
	s.lastSnap = &snap
	s.updateDriftLocked(snap)
	s.updateReadinessLocked(settled)
	memBefore := memoryDigest(s.state.Memory)
	s.mergePeerMemoryLocked(views)
	var d election.Decision
	var exec election.Action
	// A sidecar that is ready again while its gossiped view still says NotReady must first tell
	// its peers: until they see it, each of them may take itself for the coordinator (the lowest
	// id among ready sidecars), and all would act at once. It republishes now and acts from the
	// next decision, which the peers' fresh views trigger.
	stale := len(s.notReady) == 0 && s.published && s.ownView.NotReady
	if len(s.notReady) > 0 || stale {
		d = election.Decision{Analysis: election.Classify(snap, s.policy), Coordinator: snap.Coordinator(),
			Action: election.Action{Kind: election.None}, Proposed: election.Action{Kind: election.None},
			Reason: ReasonNotReady}
	} else {
		d, exec = s.decideLocked(snap, now)
	}
	audit := s.recordLocked(snap, d, now)
	start := !exec.IsNone() && !s.running[exec]
	if start {
		s.running[exec] = true
		s.inflight.Add(1)
	}
	// Publish at once when readiness changed from what the peers were told (view.go publish).
	publish := len(s.notReady) == 0 && !s.published || s.published && (len(s.notReady) > 0) != s.ownView.NotReady || memoryDigest(s.state.Memory) != memBefore
	s.mu.Unlock()
	if audit != nil {
		s.writeAudit(*audit)
	}
	if publish {
		// The records of an action go out before the action does: a coordinator that dies
		// right after acting has already told the others (anti-flap, the action in flight).
		s.publish()
	}
	if start {
		go func() {
			defer s.inflight.Done()
			s.execute(ctx, d, exec)
		}()
	}
	s.takeRequests(ctx)
	s.recordHistory(d.Analysis)
}

// decideLocked calls election.Decide and applies the rule that depends on how the sidecar is
// configured rather than on the snapshot: failover.step_down_sick_primary. It returns the
// decision and the action this sidecar executes: the core addresses every action to one
// sidecar (election/executor.go), and Decision.Action is set only on that sidecar.
func (s *Supervisor) decideLocked(snap topology.Snapshot, now time.Time) (election.Decision, election.Action) {
	p := s.policy
	d, st := election.Decide(snap, s.state, p, now)
	if d.Analysis.Kind == election.SickPrimary && !s.cfg.Failover.StepDownSickPrimary {
		p.Enabled = false
		d, st = election.Decide(snap, s.state, p, now)
	}
	if !d.Action.IsNone() && !d.Action.Local() && now.Sub(s.readySince) < readySettle {
		// A fallback executor acts for a member whose own sidecar it judged out of sight or
		// not ready. Right after this sidecar became ready, that judgement may rest on views
		// that still carry a NotReady flipping on every sidecar at once (a config reload): wait
		// one settle period, keeping the state, so no record claims an action not sent.
		d.Action, d.Reason = election.Action{Kind: election.None}, ReasonReadySettling
		return d, d.Action
	}
	s.setStateLocked(st)
	exec := d.Action
	if exec.Executor != s.id {
		exec = election.Action{Kind: election.None}
	}
	return d, exec
}

// recordLocked updates metrics, the status and the failover clock, logs changes, and returns the
// audit line to write for a refusal that is new: a change of the (analysis, reason) pair. Every
// decision is counted; only changes are written, or a stuck incident would fill the disk.
func (s *Supervisor) recordLocked(snap topology.Snapshot, d election.Decision, now time.Time) *AuditRecord {
	prev := s.decision.Decision
	s.decision = decisionRecord{At: now, Decision: d}
	m := s.metrics
	m.decisions.WithLabelValues(string(actionKind(d.Proposed)), string(d.Reason)).Inc()
	if d.Reason.Refused() {
		m.refusals.WithLabelValues(string(d.Reason)).Inc()
	}
	m.setAnalysis(d.Analysis.Kind)
	rows := membersTable(snap, d.Analysis)
	m.setReplication(d.Analysis.Kind, rows)
	for _, row := range rows {
		if row.Host == "" {
			continue
		}
		m.memberState.WithLabelValues(row.Host).Set(float64(row.stateNum))
		m.memberLag.WithLabelValues(row.Host).Set(row.LagSeconds)
	}
	s.timeFailoverLocked(d.Analysis, now)

	if prev.Analysis.Kind != d.Analysis.Kind || prev.Reason != d.Reason {
		level := slog.LevelInfo
		if d.Analysis.Actionable() || d.Reason.Refused() && d.Analysis.Kind != election.LostQuorum && d.Analysis.Kind != election.Healthy {
			level = slog.LevelWarn
		}
		s.logger.Log(context.Background(), level, "decision changed", "analysis", d.Analysis.Kind,
			"primary", d.Analysis.Primary, "reason", d.Reason, "action", d.Action, "proposed", d.Proposed,
			"coordinator", d.Coordinator, "executor", d.Executor, "evidence", strings.Join(d.Analysis.Evidence, "; "))
	}
	if len(s.notReady) == 0 && snap.HasQuorum() {
		s.warm = true
	}
	if !d.Reason.Refused() || !s.warm {
		// Before the sidecar was first ready with a quorum, refusals are start-up transients
		// (views still arriving), not news.
		s.auditKey = ""
		return nil
	}
	if d.Reason == election.RefusedNotExecutor && d.Coordinator != s.id {
		// "Another sidecar executes it" is written once, by the coordinator, not by every
		// sidecar of the set; the executor audits what it does.
		return nil
	}
	key := d.Analysis.Kind.String() + "/" + string(d.Reason)
	if key == s.auditKey {
		return nil
	}
	s.auditKey = key
	result := ResultRefused
	if d.Reason == election.RefusedDryRun {
		result = ResultDryRun
	}
	return &AuditRecord{Time: now, Sidecar: s.id, Set: s.cfg.ReplicaSet, Analysis: auditAnalysis(d.Analysis),
		Decision: auditDecision(d.Proposed), Reason: d.Reason, Actor: actorAuto, Result: result,
		Coordinator: d.Coordinator}
}

func actionKind(a election.Action) election.ActionKind {
	if a.IsNone() {
		return election.None
	}
	return a.Kind
}

// timeFailoverLocked starts the clock at the first actionable analysis of an incident and stops
// it when a writable primary other than the lost one (or in a newer term) is observed.
func (s *Supervisor) timeFailoverLocked(a election.Analysis, now time.Time) {
	fc := &s.failover
	switch {
	case fc.start.IsZero():
		if a.Actionable() && a.Kind != election.StalePrimaryLingering {
			*fc = failoverClock{start: now, inc: election.Incident{Primary: a.Primary, Term: a.Term}}
		}
	case now.Sub(fc.start) > failoverGiveUp:
		*fc = failoverClock{}
	case a.Primary != "" && (a.Primary != fc.inc.Primary || a.Term > fc.inc.Term) &&
		a.Kind != election.ElectionInProgress && a.Kind != election.ElectionQuietPeriod && s.writableLocked(a.Primary):
		took := now.Sub(fc.start)
		s.metrics.failoverDuration.Observe(took.Seconds())
		s.logger.Info("new writable primary", "primary", a.Primary, "term", a.Term,
			"replaced", fc.inc.Primary, "after", took)
		*fc = failoverClock{}
	}
}

func (s *Supervisor) writeAudit(r AuditRecord) {
	if err := s.audit.write(r); err != nil {
		s.metrics.auditErrors.Inc()
		s.logger.Error("audit log", "err", err)
	}
}

// setStateLocked installs the next election state and saves it when its durable part changed.
func (s *Supervisor) setStateLocked(st election.State) {
	old := s.state
	s.state = st
	if old.LastFailover != st.LastFailover || !old.AckAt.Equal(st.AckAt) || !election.SameMemory(old.Memory, st.Memory) {
		if err := saveState(statePath(s.cfg), st); err != nil {
			s.logger.Error("cannot save supervisor state", "err", err)
		}
	}
}
