package supervisor

import (
	"maps"
	"slices"
	"time"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// Execution deadlines. replSetStepUp waits for the election (spec §6.3) and replSetStepDown for a
// caught-up secondary (secondaryCatchUpPeriodSecs, default 10 s, spec §6.1); a fence must be quick
// because the fenced primary is sick by definition (spec §6.9: with force it stops anyway).
const (
	stepUpTimeout       = 10 * time.Second
	stepDownTimeout     = 15 * time.Second
	freezeTimeout       = 5 * time.Second
	abortCatchUpTimeout = 5 * time.Second
	fenceTimeout        = 5 * time.Second
	fenceShutdownSecs   = 1 * time.Second
)

// policyFrom maps the config onto election.Policy. The mapping, key by key:
//
//	failover.enabled                      -> Enabled
//	failover.dry_run                      -> DryRun
//	failover.anti_flap_window             -> AntiFlapWindow
//	failover.fence_after                  -> FenceAfter
//	failover.fence_old_primary            -> FenceDisabled when false: a lingering older primary
//	                                         and PSA fence-first are refused with
//	                                         refused_fence_disabled instead of fenced
//	failover.step_down_sick_primary       -> no Policy field: when false, a sick_primary decision
//	                                         is re-run with Enabled false (refused_policy_disabled),
//	                                         see decide.go. SickStepDown stays false: the quicker
//	                                         step-up of a secondary is used (failover-notes).
//	failover.candidates.max_lag           -> MaxLag
//	failover.candidates.prefer/avoid_zones, require_tags -> PreferZones, AvoidZones, RequireTags
//	probe.sick_after                      -> SickAfter
//	probe.sick_write_latency              -> ProbeSlow
//	probe.failures_before_unreachable     -> ProbeFailures (the consecutive failed w:1 j:true
//	                                         write probes that make one sidecar a witness of
//	                                         sickness)
//	failover.election_quiet               -> ElectionQuiet
//	(none)                                -> SickObservers 2, WriteStall 30 s, StepDownSecs 60,
//	                                         PendingTimeout 15 s, FreezeSecs 120, HeartbeatFresh
//	                                         3 s: election.DefaultPolicy.
//
// config.Default() takes its defaults from election.DefaultPolicy, so the default configuration
// maps back onto exactly DefaultPolicy (TestDefaultConfigIsDefaultPolicy).
//
//	failover.candidates.min_priority      -> MinPriority
//	failover.abort_catch_up               -> AbortCatchUp
func policyFrom(cfg *config.Config) election.Policy {
	p := election.DefaultPolicy()
	f, pr := cfg.Failover, cfg.Probe
	p.Enabled = f.Enabled
	p.DryRun = f.DryRun
	p.AntiFlapWindow = f.AntiFlapWindow
	p.FenceAfter = f.FenceAfter
	p.FenceDisabled = !f.FenceOldPrimary
	p.MaxLag = f.Candidates.MaxLag
	p.PreferZones = slices.Clone(f.Candidates.PreferZones)
	p.AvoidZones = slices.Clone(f.Candidates.AvoidZones)
	p.RequireTags = maps.Clone(f.Candidates.RequireTags)
	p.MinPriority = f.Candidates.MinPriority
	p.AbortCatchUp = f.AbortCatchUp
	p.ElectionQuiet = f.ElectionQuiet
	p.SickAfter = pr.SickAfter
	p.ProbeSlow = pr.SickWriteLatency
	p.ProbeFailures = pr.FailuresBeforeUnreachable
	return p
}

// PolicySummary is the policy part of the status report.
type PolicySummary struct {
	Enabled             bool   `json:"enabled"`
	DryRun              bool   `json:"dry_run"`
	StepDownSickPrimary bool   `json:"step_down_sick_primary"`
	FenceAfter          string `json:"fence_after"`
	AntiFlapWindow      string `json:"anti_flap_window"`
	// AntiFlapUntil is when the block on a second automatic failover ends; zero when none.
	AntiFlapUntil  time.Time         `json:"anti_flap_until,omitzero"`
	LastFailover   election.Failover `json:"last_failover,omitzero"`
	AcknowledgedAt time.Time         `json:"acknowledged_at,omitzero"`
	Pending        election.Pending  `json:"pending,omitzero"`
	// Memory is the set's shared memory as this sidecar holds it: failovers, acknowledgement,
	// freezes, pause, actions in flight and incidents (topology/memory.go).
	Memory topology.Memory `json:"memory,omitzero"`
	// ElectionQuiet is failover.election_quiet; ElectionQuietUntil, when in the future, is when
	// the quiet period of ElectionQuietTerm (the newest term seen) ends.
	ElectionQuiet      string    `json:"election_quiet"`
	ElectionQuietUntil time.Time `json:"election_quiet_until,omitzero"`
	ElectionQuietTerm  int64     `json:"election_quiet_term,omitempty"`
}

func policySummary(cfg *config.Config, p election.Policy, st election.State) PolicySummary {
	s := PolicySummary{
		Enabled: p.Enabled, DryRun: p.DryRun, StepDownSickPrimary: cfg.Failover.StepDownSickPrimary,
		FenceAfter: fenceText(p), AntiFlapWindow: p.AntiFlapWindow.String(),
		LastFailover: st.LastFailover, AcknowledgedAt: st.AckAt, Pending: st.Pending,
		Memory:        st.Memory,
		ElectionQuiet: p.ElectionQuiet.String(),
	}
	s.AntiFlapUntil = antiFlapUntil(st, p)
	return s
}

// antiFlapUntil is when the block on a second automatic failover ends: the last failover plus
// the anti-flap window, unless acknowledged; zero when there is none.
func antiFlapUntil(st election.State, p election.Policy) time.Time {
	if f := st.LastFailover; !f.At.IsZero() && st.AckAt.Before(f.At) {
		return f.At.Add(p.AntiFlapWindow)
	}
	return time.Time{}
}

func fenceText(p election.Policy) string {
	if p.FenceDisabled || p.FenceAfter <= 0 {
		return "off"
	}
	return p.FenceAfter.String()
}
