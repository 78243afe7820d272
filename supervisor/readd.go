package supervisor

import (
	"context"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/topology"
)

// Re-add (the recovery issue, deliverable 5): the primary's own sidecar compares the replica
// set's config with the sidecars' members[] (the operator's intent) and runs recovery.PlanReAdd's
// safe reconfigs on its mongod. "Answering" is this sidecar's own probe of the member's mongod
// (a removed mongod still answers hello, as REMOVED).

// readdTick runs on every data sidecar; it acts only while its own mongod is the primary.
func (s *Supervisor) readdTick(ctx context.Context) {
	now := s.now()
	s.mu.Lock()
	// A sidecar that is not ready observes and reports but never acts (config drift included:
	// the members lists may differ).
	if s.cfg.Recovery.ReAdd != "auto" || len(s.notReady) > 0 || s.state.Paused() || !s.local.reachable() || s.local.view.State != topology.StatePrimary || !s.local.obs.HasConfig {
		s.mu.Unlock()
		return
	}
	in := recovery.ReAddInput{Config: s.local.obs.Config, Answering: map[string]bool{},
		States: map[string]topology.MemberState{}, CaughtUp: map[string]bool{}}
	for _, m := range s.cfg.Members {
		if m.Mongod == "" {
			continue
		}
		in.Wanted = append(in.Wanted, m.Mongod)
		if p := s.peers[m.Mongod]; m.Mongod == s.selfHost || p != nil && p.tried && p.ok && p.answered {
			in.Answering[m.Mongod] = true
		}
	}
	var primary topology.OpTime
	for _, m := range s.local.obs.Status.Members {
		if m.Self {
			primary = m.OpTime
		}
	}
	for _, m := range s.local.obs.Status.Members {
		in.States[m.Name] = m.State
		in.CaughtUp[m.Name] = m.Health == 1 && m.OpTime.LagBehind(primary) <= s.cfg.Recovery.ResyncMaxLag
	}
	plan := recovery.PlanReAdd(in)
	fresh := plan.Reason != s.readdRefusal
	if plan.Action == recovery.ReAddNone {
		s.readdRefusal = plan.Reason
	} else {
		s.readdRefusal = ""
	}
	set := s.cfg.ReplicaSet
	s.mu.Unlock()

	rec := AuditRecord{Time: now, Sidecar: s.id, Set: set, Actor: actorAuto, Reason: election.Reason(plan.Reason),
		Decision: AuditDecision{Action: election.ActionKind(plan.Action), Target: plan.Member, Executor: s.id},
		Analysis: AuditAnalysis{Primary: s.selfHost, Evidence: plan.Evidence}}
	if plan.Action == recovery.ReAddNone {
		if fresh && plan.Reason != "" {
			rec.Result = ResultRefused
			s.writeAudit(rec)
		}
		return
	}
	_ = s.runReconfig(ctx, "re-add", plan.NewConfig, rec)
}
