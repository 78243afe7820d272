package supervisor

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/topology"
)

// PSA mitigation (the recovery issue, deliverable 6). In a primary-secondary-arbiter set whose
// secondary is lost, w:"majority" writes stall and the majority commit point stops, which fills
// the primary's cache; MongoDB's documented remedy is to reconfigure the lost secondary to
// votes 0 / priority 0, then restore its votes and, in a later reconfig, its priority once it has
// caught up. The planner is recovery.PlanPSA (pure; the original settings live in a member tag
// of the replica set config, so any sidecar can restore them). Only the primary's own sidecar
// runs it: it reads the config and the members' states from its own mongod, first-hand, and it
// is the only one that can run replSetReconfig (a safe reconfig, never force) on it.
//
// The trade-off, said in the README: while the secondary is demoted, w:"majority" rests on the
// primary alone and the demoted member cannot be elected.

// Audit vocabulary of the PSA mitigation (the action is the plan's, prefixed).
const psaActionPrefix = "psa_"

type psaState struct {
	lastHealthy map[string]time.Time
	caughtUp    map[string]time.Time
	refusal     recovery.PSAReason
}

type psaMetrics struct {
	demoted prometheus.Gauge
	actions *prometheus.CounterVec
}

func newPSAMetrics(reg prometheus.Registerer) *psaMetrics {
	f := promauto.With(reg)
	return &psaMetrics{
		demoted: f.NewGauge(prometheus.GaugeOpts{Name: "rsguard_supervisor_psa_member_demoted",
			Help: "1 while the PSA set's secondary is reconfigured to votes 0 (majority writes rest on the primary alone); reported by the primary's sidecar."}),
		actions: f.NewCounterVec(prometheus.CounterOpts{Name: "rsguard_supervisor_psa_reconfigs_total",
			Help: "PSA mitigation reconfigs run on the primary, by action (demote, restore_votes, restore_priority) and outcome."}, []string{"action", "outcome"}),
	}
}

// psaTick runs on every data sidecar; it acts only while its own mongod is the primary.
func (s *Supervisor) psaTick(ctx context.Context) {
	now := s.now()
	s.mu.Lock()
	if s.cfg.Recovery.PSAMitigation != "auto" || len(s.notReady) > 0 || s.state.Paused() || !s.local.reachable() || s.local.view.State != topology.StatePrimary || !s.local.obs.HasConfig {
		s.mu.Unlock()
		return
	}
	in := recovery.PSAInput{Config: s.local.obs.Config, Primary: s.selfHost, Now: now}
	opts := recovery.PSAOptions{LostAfter: s.cfg.Recovery.PSALostAfter}
	if s.psa.lastHealthy == nil {
		s.psa.lastHealthy, s.psa.caughtUp = map[string]time.Time{}, map[string]time.Time{}
	}
	var primaryOpTime topology.OpTime
	for _, m := range s.local.obs.Status.Members {
		if m.Self {
			primaryOpTime = m.OpTime
		}
	}
	for _, m := range s.local.obs.Status.Members {
		pm := recovery.PSAMember{Host: m.Name, State: m.State, Healthy: m.Health == 1 || m.Self, OpTime: m.OpTime}
		if _, seen := s.psa.lastHealthy[m.Name]; !seen || !pm.Lost() {
			// Never seen healthy by this run: lost at least since it first looked.
			s.psa.lastHealthy[m.Name] = now
		}
		pm.LastHealthy = s.psa.lastHealthy[m.Name]
		if opts.CaughtUp(pm, primaryOpTime) {
			if s.psa.caughtUp[m.Name].IsZero() {
				s.psa.caughtUp[m.Name] = now
			}
		} else {
			delete(s.psa.caughtUp, m.Name)
		}
		pm.CaughtUpSince = s.psa.caughtUp[m.Name]
		in.Members = append(in.Members, pm)
	}
	plan := recovery.PlanPSA(in, opts)
	demoted := false
	for _, m := range in.Config.Members {
		if _, ok := m.Tags[recovery.PSADemotedTag]; ok {
			demoted = true
		}
	}
	s.psaMetrics.demoted.Set(b2f(demoted))
	set := s.cfg.ReplicaSet
	quiet := plan.Action == recovery.PSANone && (plan.Reason == recovery.PSARefusedNotPSA || plan.Reason == recovery.PSASecondaryReachable)
	newRefusal := plan.Action == recovery.PSANone && !quiet && plan.Reason != s.psa.refusal
	if plan.Action == recovery.PSANone {
		s.psa.refusal = plan.Reason
	} else {
		s.psa.refusal = ""
	}
	s.mu.Unlock()

	rec := AuditRecord{Time: now, Sidecar: s.id, Set: set, Actor: actorAuto, Reason: election.Reason(plan.Reason),
		Decision: AuditDecision{Action: election.ActionKind(psaActionPrefix + string(plan.Action)), Target: plan.Member, Executor: s.id},
		Analysis: AuditAnalysis{Primary: s.selfHost, Evidence: plan.Evidence}}
	if plan.Action == recovery.PSANone {
		if newRefusal && strings.HasPrefix(string(plan.Reason), "refused_") {
			rec.Result = ResultRefused
			s.writeAudit(rec)
		}
		return
	}
	outcome := "ok"
	if s.runReconfig(ctx, "PSA mitigation", plan.NewConfig, rec) != nil {
		outcome = "failed"
	}
	s.psaMetrics.actions.WithLabelValues(string(plan.Action), outcome).Inc()
}
