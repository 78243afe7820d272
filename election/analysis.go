package election

import "time"

// Kind is a failure class. The list is closed: Classify returns exactly one of these, and each has
// a stable code and a fixed actionable flag (orchestrator's analysis codes).
type Kind int

// The failure classes.
const (
	// Healthy: one primary, reachable by the quorum, writes flowing.
	Healthy Kind = iota
	// LostQuorum: this sidecar does not see a majority of the configured sidecars; it may be on
	// the minority side of a partition and must never act.
	LostQuorum
	// NoPrimary: nobody claims or believes in a primary and no election is visible. MongoDB's
	// election timer (spec §5.2) is running; stepping in would race it.
	NoPrimary
	// ElectionInProgress: a term changed within Policy.ElectionQuiet, a member is a candidate, or
	// a member is already in a newer term than the primary. MongoDB is working.
	ElectionInProgress
	// PrimaryProcessDead: the primary's own sidecar is refused by its mongod (a first-hand fact)
	// and a majority of the sidecars, none contradicting, cannot reach it.
	PrimaryProcessDead
	// PrimaryProcessUnresponsive: as PrimaryProcessDead, but the own sidecar times out instead of
	// being refused (hung or stopped process): corroborated by the quorum all the same.
	PrimaryProcessUnresponsive
	// PrimaryHostUnreachable: neither the primary nor its sidecar is seen; a majority of the
	// sidecars agree.
	PrimaryHostUnreachable
	// PrimaryUnreachableFromMeOnly: only this sidecar lost the primary. Never "dead".
	PrimaryUnreachableFromMeOnly
	// PrimaryUnreachableUncorroborated: some sidecars lost the primary, but not a majority, or
	// others (its own sidecar above all) still reach it: a partition MongoDB resolves itself.
	PrimaryUnreachableUncorroborated
	// SickPrimary: heartbeats flow but writes are stalled, reported by at least
	// Policy.SickObservers sidecars for at least Policy.SickAfter. MongoDB never fails over
	// on its own here (failover-notes "Sick primary").
	SickPrimary
	// SickPrimaryUncorroborated: fewer than Policy.SickObservers sidecars see write trouble.
	SickPrimaryUncorroborated
	// SickPrimaryPending: corroborated write trouble, not yet sustained for Policy.SickAfter.
	SickPrimaryPending
	// SplitBrainSuspected: two members claim PRIMARY. The newest term wins (spec §5.1); the
	// older one steps down when it learns the term, so we wait.
	SplitBrainSuspected
	// StalePrimaryLingering: an older-term primary has still claimed PRIMARY for
	// Policy.FenceAfter after a newer term began: it cannot step down (a sick primary, spec
	// §6.1, failover-notes) and its own sidecar should fence it.
	StalePrimaryLingering
	// PrimaryCatchingUp: the newest primary won its election but is still in catch-up or drain
	// (spec §5.4): MongoDB is at work, not a failure (not actionable). Like Healthy, which may
	// freeze a former primary, it may lead to one follow-up of a failover rsguard made: when it
	// stepped this member up because the former primary was lost, and catch-up only waits for
	// that lost member to be marked down, replSetAbortPrimaryCatchUp ends the wait
	// (election/catchup.go).
	PrimaryCatchingUp
	// ReplicationLagging: the primary is healthy as far as evidence local to it tells (w:1 j:true
	// probes fast, lastWrite moving) but w:"majority" writes are slow or time out, because the
	// secondaries apply behind it. Replacing the primary would promote a lagging member and, in
	// PSA, shut a healthy primary down: never actionable (election/lagging.go).
	ReplicationLagging
	// PrimaryUnreachableSidecarsOnly: a majority of the sidecars lost the primary, but a majority
	// of the voting mongods still get fresh heartbeat replies from it (election/veto.go): the
	// sidecars' path is cut, not the primary. Not actionable.
	PrimaryUnreachableSidecarsOnly
	// ElectionQuietPeriod: nobody is running for election and no newer term exists, but a term
	// began less than Policy.ElectionQuiet ago (failover.election_quiet): MongoDB's election may
	// still be settling (spec §5.6), so rsguard waits the rest of the period. Not actionable;
	// unlike ElectionInProgress it does not claim that anyone is electing.
	ElectionQuietPeriod
	numKinds
)

// kindInfo is a constant table: stable code and actionable flag per kind.
var kindInfo = [numKinds]struct {
	code       string
	actionable bool
}{
	Healthy:                          {"healthy", false},
	LostQuorum:                       {"lost_quorum", false},
	NoPrimary:                        {"no_primary", false},
	ElectionInProgress:               {"election_in_progress", false},
	PrimaryProcessDead:               {"primary_process_dead", true},
	PrimaryProcessUnresponsive:       {"primary_process_unresponsive", true},
	PrimaryHostUnreachable:           {"primary_host_unreachable", true},
	PrimaryUnreachableFromMeOnly:     {"primary_unreachable_from_me_only", false},
	PrimaryUnreachableUncorroborated: {"primary_unreachable_uncorroborated", false},
	SickPrimary:                      {"sick_primary", true},
	SickPrimaryUncorroborated:        {"sick_primary_uncorroborated", false},
	SickPrimaryPending:               {"sick_primary_pending", false},
	SplitBrainSuspected:              {"split_brain_suspected", false},
	StalePrimaryLingering:            {"stale_primary_lingering", true},
	PrimaryCatchingUp:                {"primary_catching_up", false},
	ReplicationLagging:               {"replication_lagging", false},
	PrimaryUnreachableSidecarsOnly:   {"primary_unreachable_sidecars_only", false},
	ElectionQuietPeriod:              {"election_quiet_period", false},
}

// String returns the kind's stable code, used in logs, the audit log, the API and metric labels.
func (k Kind) String() string {
	if k >= 0 && k < numKinds {
		return kindInfo[k].code
	}
	return "unknown"
}

// Actionable reports whether the kind may lead to an action (subject to Decide's gates).
func (k Kind) Actionable() bool { return k >= 0 && k < numKinds && kindInfo[k].actionable }

// Kinds lists every kind, for metrics that pre-register their labels.
func Kinds() []Kind {
	ks := make([]Kind, numKinds)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// ParseKind maps a code back to its Kind.
func ParseKind(code string) (Kind, bool) {
	for i, info := range kindInfo {
		if info.code == code {
			return Kind(i), true
		}
	}
	return 0, false
}

// MarshalText writes the code, so JSON status output and scenario files use it.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a code.
func (k *Kind) UnmarshalText(b []byte) error {
	v, ok := ParseKind(string(b))
	if !ok {
		return &unknownCodeError{what: "analysis kind", code: string(b)}
	}
	*k = v
	return nil
}

// Analysis is Classify's verdict with the evidence behind it.
type Analysis struct {
	Kind Kind `json:"kind"`
	// Primary is the member the analysis is about: the primary, or for SplitBrainSuspected and
	// StalePrimaryLingering the older-term one still claiming PRIMARY.
	Primary string `json:"primary,omitempty"`
	Term    int64  `json:"term,omitempty"`
	// Newer is the newest-term primary when two members claim PRIMARY.
	Newer     string `json:"newer,omitempty"`
	NewerTerm int64  `json:"newer_term,omitempty"`
	// Since is when the condition began, as far as the evidence tells.
	Since time.Time `json:"since,omitzero"`
	// Evidence is human readable: which sidecar saw what.
	Evidence []string `json:"evidence,omitempty"`
	// Witnesses are the sidecars whose observations make the verdict (those that lost the
	// primary, or testify that a sick one's write path is stalled), sorted; Needed is how many a
	// verdict needs. An audit line carries both, so a reader (the chaos soak's quorum invariant,
	// an operator) can check an action had its quorum without parsing Evidence.
	Witnesses []string `json:"witnesses,omitempty"`
	Needed    int      `json:"needed,omitempty"`
}

// Actionable reports whether the analysis may lead to an action.
func (a Analysis) Actionable() bool { return a.Kind.Actionable() }

type unknownCodeError struct{ what, code string }

func (e *unknownCodeError) Error() string { return "election: unknown " + e.what + " " + e.code }
