package recovery

import (
	"time"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// PSAAction is the one reconfig a PSA plan asks for; PSANone asks for nothing.
type PSAAction string

// PSA actions, in the order a mitigation goes through them. Each is one safe (non-force)
// replSetReconfig changing at most one member's votes (spec §4.5 "Single-voter-change rule").
const (
	PSANone PSAAction = "none"
	// PSADemote: the lost secondary gets votes 0, priority 0 and the tag recording what it had.
	PSADemote PSAAction = "demote"
	// PSARestoreVotes: the caught-up secondary votes again, still priority 0.
	PSARestoreVotes PSAAction = "restore_votes"
	// PSARestorePriority: its priority comes back and the tag goes.
	PSARestorePriority PSAAction = "restore_priority"
)

// PSAReason is the typed code of a PSA plan, acted on or refused (DESIGN.md principle 4).
// Codes are stable strings: metric labels and audit lines.
type PSAReason string

// Reasons for acting.
const (
	PSASecondaryLost     PSAReason = "psa_secondary_lost"
	PSASecondaryCaughtUp PSAReason = "psa_secondary_caught_up"
	PSAVotesRestored     PSAReason = "psa_votes_restored"
)

// Reasons for doing nothing because nothing is due.
const (
	// PSASecondaryReachable: the secondary is not lost and rsguard has not demoted it.
	PSASecondaryReachable PSAReason = "psa_secondary_reachable"
	// PSADemotedWaiting: the secondary is demoted and still lost: the mitigation is in place.
	PSADemotedWaiting PSAReason = "psa_demoted_waiting"
)

// Refusals: something may be due, and this is why nothing is done.
const (
	PSARefusedNotPSA            PSAReason = "refused_psa_not_psa"
	PSARefusedNoPrimary         PSAReason = "refused_psa_no_primary"
	PSARefusedNotLostLongEnough PSAReason = "refused_psa_not_lost_long_enough"
	// PSARefusedArbiterDown: without the arbiter the primary and arbiter are no voting majority
	// of the demoted config; the safe reconfig could not commit (spec §4.5) and the primary is
	// about to step down anyway (spec §5.1).
	PSARefusedArbiterDown           PSAReason = "refused_psa_arbiter_down"
	PSARefusedStillBehind           PSAReason = "refused_psa_still_behind"
	PSARefusedNotCaughtUpLongEnough PSAReason = "refused_psa_not_caught_up_long_enough"
	PSARefusedBadTag                PSAReason = "refused_psa_bad_tag"
	PSARefusedConfigVersion         PSAReason = "refused_psa_config_version"
)

// PSAOptions are the thresholds of the PSA mitigation; zero fields take the defaults.
type PSAOptions struct {
	// LostAfter: how long the secondary must have been lost before it is demoted (default 30s).
	LostAfter time.Duration
	// CaughtUpLag: a SECONDARY at most this far behind the primary counts as caught up
	// (default 10s).
	CaughtUpLag time.Duration
	// RestoreAfter: how long it must stay caught up before its votes are restored (default 10s).
	RestoreAfter time.Duration
}

// DefaultPSAOptions are the documented defaults.
func DefaultPSAOptions() PSAOptions {
	return PSAOptions{LostAfter: 30 * time.Second, CaughtUpLag: 10 * time.Second, RestoreAfter: 10 * time.Second}
}

func (o PSAOptions) withDefaults() PSAOptions {
	d := DefaultPSAOptions()
	if o.LostAfter <= 0 {
		o.LostAfter = d.LostAfter
	}
	if o.CaughtUpLag <= 0 {
		o.CaughtUpLag = d.CaughtUpLag
	}
	if o.RestoreAfter <= 0 {
		o.RestoreAfter = d.RestoreAfter
	}
	return o
}

// PSAMember is one member as the primary sees it (its replSetGetStatus members[], spec §3.3),
// plus the two times the caller keeps, since a pure planner has no memory of its own. Zero times
// mean "not known" and never let an action fire.
type PSAMember struct {
	Host    string
	State   topology.MemberState
	Healthy bool            // members[].health 1
	OpTime  topology.OpTime // applied optime; the primary's own entry gives the primary's
	// LastHealthy is when the primary last saw the member healthy.
	LastHealthy time.Time
	// CaughtUpSince is when PSAOptions.CaughtUp last turned true for the member and has stayed
	// true since; zero while it is false.
	CaughtUpSince time.Time
}

// Lost reports whether the primary has lost the member: unhealthy, DOWN or never contacted.
func (m PSAMember) Lost() bool {
	return !m.Healthy || m.State == topology.StateDown || m.State == topology.StateUnknown
}

// CaughtUp reports whether m is a healthy SECONDARY within CaughtUpLag of the primary's optime.
// The caller tracks PSAMember.CaughtUpSince with it so that both use one definition.
func (o PSAOptions) CaughtUp(m PSAMember, primary topology.OpTime) bool {
	o = o.withDefaults()
	if m.Lost() || m.State != topology.StateSecondary || m.OpTime.IsNull() || primary.IsNull() {
		return false
	}
	return m.OpTime.LagBehind(primary) <= o.CaughtUpLag
}

// PSAInput is everything the planner looks at: the current config (replSetGetConfig on the
// primary), the members as the primary reports them, and the time.
type PSAInput struct {
	Config mongo.ReplConfig
	// Primary is the primary's host; empty when there is none.
	Primary string
	Members []PSAMember
	Now     time.Time
}

// PSAPlan is the planner's answer. NewConfig is set only when Action is not PSANone: the
// config to send with a safe replSetReconfig to the primary, version already raised by one.
type PSAPlan struct {
	Action    PSAAction        `json:"action"`
	Member    string           `json:"member,omitempty"`
	NewConfig mongo.ReplConfig `json:"-"`
	// Original is what the member had before rsguard demoted it (from the tag, or from the
	// config when demoting now); zero when there is no demotion in play.
	Original MemberSettings `json:"original,omitzero"`
	Reason   PSAReason      `json:"reason"`
	Evidence []string       `json:"evidence"`
}
