package supervisor

import (
	"fmt"
	"strings"
)

// Acknowledge records an operator's acknowledgement of the last automatic failover, which lifts
// the anti-flap block on the next one (orchestrator's recovery acknowledgement). actor names the
// operator; it is audited as "operator:<actor>". The block is this sidecar's: acknowledge on the
// coordinator (the status report names it), or on every sidecar to be sure.
func (s *Supervisor) Acknowledge(actor string) error {
	actor = strings.TrimSpace(strings.TrimPrefix(actor, "operator:"))
	if actor == "" {
		actor = "unknown"
	}
	actor = "operator:" + actor
	now := s.now()
	s.mu.Lock()
	last := s.state.LastFailover
	s.setStateLocked(s.state.Acknowledge(now))
	a := s.decision.Decision.Analysis
	set := s.cfg.ReplicaSet
	s.mu.Unlock()
	s.logger.Warn("failover acknowledged: anti-flap block lifted", "actor", actor,
		"last_failover_at", last.At, "last_failover_to", last.To, "last_failover_reason", last.Reason)
	err := s.audit.write(AuditRecord{Time: now, Sidecar: s.id, Set: set, Analysis: auditAnalysis(a),
		Decision: AuditDecision{Action: ActionAcknowledge, Target: last.To},
		Reason:   ReasonAcknowledged, Actor: actor, Result: ResultExecuted})
	s.kickDecide()
	if err != nil {
		s.metrics.auditErrors.Inc()
		return fmt.Errorf("supervisor: acknowledge by %s: %w", actor, err)
	}
	return nil
}
