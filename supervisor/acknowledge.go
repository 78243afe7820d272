package supervisor

import "fmt"

// Acknowledge records an operator's acknowledgement of the last automatic failover, which lifts
// the anti-flap block on the next one (orchestrator's recovery acknowledgement). actor names the
// operator; it is audited as "operator:<actor>". The acknowledgement is a record of the shared
// memory: gossiped, it lifts the block on every sidecar, whichever one is asked.
func (s *Supervisor) Acknowledge(actor string) error {
	actor = operatorName(actor)
	now := s.now()
	s.mu.Lock()
	last := s.state.LastFailover
	s.setStateLocked(s.state.AcknowledgeBy(now, actor))
	a := s.decision.Decision.Analysis
	set := s.cfg.ReplicaSet
	s.mu.Unlock()
	s.logger.Warn("failover acknowledged: anti-flap block lifted", "actor", actor,
		"last_failover_at", last.At, "last_failover_to", last.To, "last_failover_reason", last.Reason)
	err := s.audit.write(AuditRecord{Time: now, Sidecar: s.id, Set: set, Analysis: auditAnalysis(a),
		Decision: AuditDecision{Action: ActionAcknowledge, Target: last.To},
		Reason:   ReasonAcknowledged, Actor: actor, Result: ResultExecuted})
	s.publish()
	s.kickDecide()
	if err != nil {
		s.metrics.auditErrors.Inc()
		return fmt.Errorf("supervisor: acknowledge by %s: %w", actor, err)
	}
	return nil
}
