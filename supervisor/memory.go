package supervisor

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// The set's shared memory (election/doc.go, topology/memory.go) travels in every gossiped
// MemberView and is kept in state_dir with the rest of the election state. This file is its I/O:
// merging what the peers gossip, and the operator's pause and resume.

// Supervisor-level codes for the operator's pause and resume.
const (
	ReasonPaused  election.Reason     = "operator_paused"
	ReasonResumed election.Reason     = "operator_resumed"
	ActionPause   election.ActionKind = "pause"
	ActionResume  election.ActionKind = "resume"
)

// mergePeerMemoryLocked merges every configured sidecar's gossiped memory into this sidecar's,
// alive or not, fresh or not: the records are monotonic facts, and a dead coordinator's last view
// is exactly where its last failover is written. Views from ids outside the configuration are
// ignored. The merged state is persisted when it changed.
func (s *Supervisor) mergePeerMemoryLocked(views map[string]topology.ViewWithAge) {
	m := s.state.Memory
	for id, v := range views {
		if id == s.id || !s.configuredLocked(id) || v.View.Memory.IsZero() {
			continue
		}
		m = election.MergeMemory(m, v.View.Memory)
	}
	st := s.state
	st.Memory = m
	s.setStateLocked(st)
}

func (s *Supervisor) configuredLocked(id string) bool {
	for _, m := range s.cfg.Members {
		if m.ID == id {
			return true
		}
	}
	return false
}

// memoryDigest is a short fingerprint of a memory, so that a change in anyone's copy is a
// material change of the views (the watch decides at once, the owner pushes at once).
func memoryDigest(m topology.Memory) string {
	if m.IsZero() {
		return ""
	}
	b, err := json.Marshal(m) // map keys are sorted: equal memories encode alike
	if err != nil {
		return "?"
	}
	h := fnv.New64a()
	_, _ = h.Write(b)
	return fmt.Sprintf("%x", h.Sum64())
}

// Pause stops every automatic action on every sidecar until Resume: the pause is a record in
// the shared memory, so it holds whoever coordinates and survives restarts. actor names the
// operator (audited as "operator:<actor>"), why is free text for the audit log and the status.
func (s *Supervisor) Pause(actor, why string) error {
	return s.setPaused(true, actor, why)
}

// Resume lifts a pause (see Pause).
func (s *Supervisor) Resume(actor, why string) error {
	return s.setPaused(false, actor, why)
}

func (s *Supervisor) setPaused(paused bool, actor, why string) error {
	actor, why = operatorName(actor), strings.TrimSpace(why)
	now := s.now()
	s.mu.Lock()
	s.setStateLocked(s.state.SetPaused(paused, now, actor, why))
	a := s.decision.Decision.Analysis
	set := s.cfg.ReplicaSet
	s.mu.Unlock()
	verb, reason, kind := "resumed", ReasonResumed, ActionResume
	if paused {
		verb, reason, kind = "paused", ReasonPaused, ActionPause
	}
	s.logger.Warn("automatic actions "+verb, "actor", actor, "why", why)
	err := s.audit.write(AuditRecord{Time: now, Sidecar: s.id, Set: set, Analysis: auditAnalysis(a),
		Decision: AuditDecision{Action: kind}, Reason: reason, Actor: actor, Result: ResultExecuted, Why: why})
	s.publish()
	s.kickDecide()
	if err != nil {
		s.metrics.auditErrors.Inc()
		return fmt.Errorf("supervisor: %s by %s: %w", verb, actor, err)
	}
	return nil
}

// operatorName normalizes an operator's name to "operator:<name>".
func operatorName(actor string) string {
	actor = strings.TrimSpace(strings.TrimPrefix(actor, "operator:"))
	if actor == "" {
		actor = "unknown"
	}
	return "operator:" + actor
}
