package supervisor

import (
	"fmt"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/heartbeat"
	"github.com/rsguard/rsguard/topology"
)

// StatusReport is everything an operator asks "what does this sidecar see and why does it (not)
// act": GET /v1/status and `supervisor status` print it.
type StatusReport struct {
	Time    time.Time     `json:"time"`
	Sidecar string        `json:"sidecar"`
	Mode    topology.Mode `json:"mode"`
	Set     string        `json:"set"`
	Zone    string        `json:"zone,omitempty"`
	Ready   bool          `json:"ready"`
	// NotReady lists why the sidecar is not ready; empty when ready.
	NotReady      []string     `json:"not_ready"`
	Coordinator   string       `json:"coordinator"`
	IsCoordinator bool         `json:"is_coordinator"`
	Quorum        QuorumStatus `json:"quorum"`
	// Analysis is the latest classification, with its evidence.
	Analysis election.Analysis `json:"analysis"`
	Decision DecisionStatus    `json:"last_decision"`
	// LastAction is the last action this sidecar executed, if any.
	LastAction *ActionRecord       `json:"last_action,omitempty"`
	Local      *topology.LocalView `json:"local,omitempty"`
	LocalError string              `json:"local_error,omitempty"`
	Probe      topology.WriteProbe `json:"write_probe"`
	// JournalProbe is the w:1 j:true probe: evidence local to the primary.
	JournalProbe topology.WriteProbe `json:"journal_probe"`
	Members      []MemberRow         `json:"members"`
	Policy       PolicySummary       `json:"policy"`
	Gossip       GossipStatus        `json:"gossip"`
	// ConfigAgreement is this sidecar's config fingerprint and the peers whose fingerprint differs.
	ConfigAgreement AgreementStatus `json:"config_agreement"`
	// Process is the process controller's account of the local mongod (process.controller exec
	// or command); absent without one.
	Process *ProcessStatus `json:"process,omitempty"`
	// Resync is the member's resync, running or last refused; absent when none was needed.
	Resync *ResyncStatus `json:"resync,omitempty"`
	// Warnings are what an operator must know although the sidecar works, e.g. unauthenticated
	// gossip (gossip.insecure); /readyz prints them too.
	Warnings []string `json:"warnings,omitempty"`
}

// QuorumStatus is the sidecar quorum as this sidecar sees it.
type QuorumStatus struct {
	Configured int      `json:"configured"`
	Needed     int      `json:"needed"`
	Visible    []string `json:"visible"`
	Has        bool     `json:"has_quorum"`
}

// DecisionStatus is the latest decision.
type DecisionStatus struct {
	At       time.Time         `json:"at,omitzero"`
	Action   election.Action   `json:"action"`
	Proposed election.Action   `json:"proposed"`
	Reason   election.Reason   `json:"reason"`
	Ranking  *election.Ranking `json:"ranking,omitempty"`
}

// GossipStatus is the gossip layer's part.
type GossipStatus struct {
	Settled bool               `json:"settled"`
	Members []heartbeat.Member `json:"members"`
}

// Status reports what this sidecar sees now. Safe to call concurrently with Run, and before it.
func (s *Supervisor) Status() StatusReport {
	views := s.gossip.Views()
	members := s.gossip.Members()
	settled := s.gossip.Settled()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.snapshotLocked(views, now)
	d := s.decision
	r := StatusReport{
		Time: now, Sidecar: s.id, Mode: s.mode, Set: s.cfg.ReplicaSet, Zone: s.cfg.Zone(),
		NotReady:    append([]string{}, s.readinessLocked(settled)...),
		Coordinator: snap.Coordinator(), IsCoordinator: snap.IsCoordinator(),
		Quorum: QuorumStatus{Configured: len(snap.Members), Needed: snap.Majority(),
			Visible: snap.VisibleSidecars(), Has: snap.HasQuorum()},
		Analysis: d.Decision.Analysis,
		Decision: DecisionStatus{At: d.At, Action: d.Decision.Action, Proposed: d.Decision.Proposed,
			Reason: d.Decision.Reason, Ranking: d.Decision.Ranking},
		LastAction:   s.lastExec,
		Probe:        s.probe.wp,
		JournalProbe: s.jprobe.wp,
		Members:      membersTable(snap, d.Decision.Analysis),
		Policy:       policySummary(s.cfg, s.policy, s.state),
		Gossip:       GossipStatus{Settled: settled, Members: members},
	}
	r.Ready = len(r.NotReady) == 0
	r.ConfigAgreement = s.drift.status()
	r.Warnings = s.Warnings()
	r.Process = s.processStatus()
	r.Resync = s.resyncStatusLocked()
	if until, term := election.QuietUntil(snap, s.policy); until.After(now) {
		r.Policy.ElectionQuietUntil, r.Policy.ElectionQuietTerm = until, term
	}
	if r.Quorum.Visible == nil {
		r.Quorum.Visible = []string{}
	}
	if s.mode == topology.ModeData {
		if s.local.usable {
			l := s.local.view
			r.Local = &l
		}
		switch {
		case s.local.problem != "":
			r.LocalError = s.local.problem
		case s.local.err != nil:
			r.LocalError = s.local.err.Error()
		}
	}
	return r
}

// Ready is /readyz: whether the sidecar is ready to take part in decisions and, in data mode,
// whether its own mongod answers now; if not, why, in one line each. A sidecar whose mongod
// stopped answering still takes part in decisions (it is the first witness of the death), so
// only /readyz says it, not the status' ready flag.
func (s *Supervisor) Ready() (bool, []string) {
	settled := s.gossip.Settled()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.readinessLocked(settled)
	if l := &s.local; s.mode == topology.ModeData && l.answered && l.usable && !l.view.Reachable {
		why := string(l.view.Failure)
		if why == "" {
			why = "no answer"
		}
		r = append(r, fmt.Sprintf("local mongod %s does not answer (%s)", s.selfHost, why))
	}
	return len(r) == 0, r
}

// readinessLocked lists what keeps the sidecar from acting. A sidecar that is not ready keeps
// running, gossiping and reporting; it only never acts.
func (s *Supervisor) readinessLocked(settled bool) []string {
	var r []string
	if !settled {
		r = append(r, "gossip has not settled: no state exchange with another sidecar yet (seeds unreachable?) or the settle period is not over")
	}
	r = append(r, s.drift.reasons...) // config drift with a peer (agreement.go)
	if s.mode != topology.ModeData {
		return r
	}
	l := &s.local
	switch {
	case l.problem != "":
		r = append(r, l.problem)
	case !l.answered && l.err != nil:
		r = append(r, "local mongod "+s.selfHost+" has not answered yet: "+l.err.Error())
	case !l.answered:
		r = append(r, "local mongod "+s.selfHost+" has not answered yet")
	}
	return r
}

// updateReadinessLocked refreshes the readiness reasons, the gauge and logs transitions.
func (s *Supervisor) updateReadinessLocked(settled bool) {
	r := s.readinessLocked(settled)
	changed := len(r) != len(s.notReady)
	for i := 0; !changed && i < len(r); i++ {
		changed = r[i] != s.notReady[i]
	}
	s.notReady = r
	if len(r) == 0 {
		s.metrics.ready.Set(1)
		if changed || !s.readyOnce {
			s.logger.Info("sidecar ready")
			s.readySince = s.now()
		}
		s.readyOnce = true
		return
	}
	s.metrics.ready.Set(0)
	if changed {
		s.logger.Warn("sidecar not ready: it observes and reports but never acts", "reasons", r)
	}
}
