package supervisor

import (
	"context"
	"fmt"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/notify"
)

// ActionRecord is the outcome of the last action this sidecar executed.
type ActionRecord struct {
	At       time.Time         `json:"at"`
	Action   election.Action   `json:"action"`
	Analysis election.Kind     `json:"analysis"`
	Reason   election.Reason   `json:"reason"`
	Result   string            `json:"result"`
	Duration time.Duration     `json:"-"`
	Millis   int64             `json:"duration_ms"`
	Incident election.Incident `json:"incident"`
}

// execute runs one action with its deadline and feeds the outcome back: the audit line, the
// status, and the pending state. A failed action may be retried after retryDelay instead of the
// whole pending timeout: the incident is still on and the next attempt may win.
func (s *Supervisor) execute(ctx context.Context, d election.Decision, a election.Action) {
	start := s.now()
	s.logger.Warn("executing action", "action", a, "reason", d.Reason, "analysis", d.Analysis.Kind,
		"primary", d.Analysis.Primary, "local", a.Local(), "coordinator", d.Coordinator)
	err := s.askPreFailover(ctx, d, a)
	if err == nil {
		err = s.run(ctx, a)
	}
	end := s.now()
	took := end.Sub(start)
	result := ResultExecuted
	if err != nil {
		result = resultFailed + err.Error()
	}
	rec := ActionRecord{At: start, Action: a, Analysis: d.Analysis.Kind, Reason: d.Reason, Result: result,
		Duration: took, Millis: took.Milliseconds(),
		Incident: election.Incident{Primary: d.Analysis.Primary, Term: d.Analysis.Term}}

	s.mu.Lock()
	delete(s.running, a)
	s.lastExec = &rec
	if err != nil {
		retry := end.Add(s.retryDelayLocked())
		if st := s.state; st.Pending.Action == a && retry.Before(st.Pending.Deadline) {
			st.Pending.Deadline = retry
			s.state = st
		}
		s.state = s.state.ActionFailed(a, retry)
	} else if a.Kind == election.Freeze || a.Kind == election.StepDown {
		// The member is unelectable until then (spec §6.1, §6.2); the local view reports it.
		// The record goes to every sidecar, so none freezes it again or picks it (Rank).
		s.setStateLocked(s.state.RecordFreeze(a.Host, start.Add(time.Duration(a.Secs)*time.Second), s.id))
	}
	set := s.cfg.ReplicaSet
	s.mu.Unlock()
	s.publish()

	outcome := "ok"
	if err != nil {
		outcome = "failed"
		s.logger.Error("action failed", "action", a, "reason", d.Reason, "took", took, "err", err)
	} else {
		s.logger.Warn("action executed", "action", a, "reason", d.Reason, "took", took)
	}
	s.metrics.actions.WithLabelValues(string(a.Kind), outcome).Inc()
	s.writeAudit(AuditRecord{Time: start, Sidecar: s.id, Set: set, Analysis: auditAnalysis(d.Analysis),
		Decision: auditDecision(a), Reason: d.Reason, Actor: actorAuto, Result: result,
		DurationMs: took.Milliseconds(), Coordinator: d.Coordinator})
	s.kickDecide()
}

func (s *Supervisor) retryDelayLocked() time.Duration {
	return max(3*s.cfg.Probe.Interval, time.Second)
}

// run sends the action's command. Fencing stops the local mongod with shutdown {force: true}
// (spec §6.9): force because a sick primary cannot complete the stepdown a plain shutdown
// starts with; with a process controller it stops it through the controller, which keeps it
// down (process.go).
func (s *Supervisor) run(ctx context.Context, a election.Action) error {
	if a.Executor != s.id {
		return fmt.Errorf("supervisor: %s is addressed to sidecar %q, not to this one (%s)", a, a.Executor, s.id)
	}
	var timeout time.Duration
	switch a.Kind {
	case election.StepUp:
		timeout = stepUpTimeout
	case election.StepDown:
		timeout = stepDownTimeout
	case election.Freeze:
		timeout = freezeTimeout
	case election.AbortCatchUp:
		timeout = abortCatchUpTimeout
	case election.Fence:
		if a.Host != s.selfHost || a.Sidecar != s.id || !a.Local() {
			return fmt.Errorf("supervisor: fence %s: only the sidecar beside it (%s) may stop it", a.Host, a.Sidecar)
		}
		timeout = fenceTimeout
	default:
		return fmt.Errorf("supervisor: unknown action %q", a.Kind)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	node, err := s.nodes.get(ctx, a.Host)
	if err != nil {
		return err
	}
	switch a.Kind {
	case election.StepUp:
		// With the dry run: a candidate that would lose does not bump the term (spec §5.3).
		err = node.StepUp(ctx, false)
	case election.StepDown:
		err = node.StepDown(ctx, a.Secs, 0, false)
	case election.Freeze:
		err = node.Freeze(ctx, a.Secs)
	case election.AbortCatchUp:
		err = node.AbortCatchUp(ctx)
	case election.Fence:
		err = s.fenceLocal(ctx, func(ctx context.Context) error { return node.Shutdown(ctx, true, fenceShutdownSecs) })
	}
	if err != nil {
		return fmt.Errorf("supervisor: %s: %w", a, err)
	}
	return nil
}

// askPreFailover runs the pre_failover hook before a step-up or a stepdown (the actions that
// change the primary); a veto fails the action, which is audited and may be retried.
func (s *Supervisor) askPreFailover(ctx context.Context, d election.Decision, a election.Action) error {
	if a.Kind != election.StepUp && a.Kind != election.StepDown {
		return nil
	}
	to := a.Host
	if a.Kind == election.StepDown {
		to = ""
	}
	return s.preFailover(ctx, notify.Event{Kind: notify.KindFailover, Reason: string(d.Reason), Actor: "rsguard",
		From: d.Analysis.Primary, To: to, Term: d.Analysis.Term, Summary: fmt.Sprintf("rsguard is about to %s", a)})
}
