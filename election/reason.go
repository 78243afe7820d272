package election

// Reason is the typed code every Decision carries, acted on or refused (principle 3). Codes are
// stable strings: they are metric labels and appear in the audit log.
type Reason string

// Reasons for acting.
const (
	ReasonPrimaryProcessDead         Reason = "primary_process_dead"
	ReasonPrimaryProcessUnresponsive Reason = "primary_process_unresponsive"
	ReasonPrimaryHostUnreachable     Reason = "primary_host_unreachable"
	ReasonSickPrimary                Reason = "sick_primary"
	// ReasonSickPrimaryFenceFirst: in PSA the arbiter refuses any candidate while it sees the
	// sick primary healthy (spec §5.3), so the primary is fenced before a step-up can win.
	ReasonSickPrimaryFenceFirst Reason = "sick_primary_fence_first"
	ReasonStalePrimaryFence     Reason = "stale_primary_fence"
	ReasonFreezeFormerPrimary   Reason = "freeze_former_primary"
	// ReasonCatchUpWaitsOnLostPrimary: the primary rsguard just stepped up is held in catch-up
	// only by the former primary the quorum lost; see election/catchup.go.
	ReasonCatchUpWaitsOnLostPrimary Reason = "catch_up_waits_on_lost_primary"
)

// Reasons for doing nothing because nothing is wrong.
const (
	ReasonHealthy Reason = "healthy"
)

// Refusals: something may be wrong, and this is why we do not act.
const (
	RefusedNoQuorum           Reason = "refused_no_quorum"
	RefusedAntiFlap           Reason = "refused_anti_flap"
	RefusedPolicyDisabled     Reason = "refused_policy_disabled"
	RefusedDryRun             Reason = "refused_dry_run"
	RefusedNoCandidate        Reason = "refused_no_candidate"
	RefusedElectionInProgress Reason = "refused_election_in_progress"
	RefusedNoPrimary          Reason = "refused_no_primary"
	RefusedNewerPrimaryExists Reason = "refused_newer_primary_exists"
	RefusedNotCorroborated    Reason = "refused_not_corroborated"
	RefusedNotSustained       Reason = "refused_not_sustained"
	RefusedActionPending      Reason = "refused_action_pending"
	RefusedFenceDisabled      Reason = "refused_fence_disabled"
	RefusedFenceUnreachable   Reason = "refused_fence_unreachable"
	// RefusedCatchUpNotOurs: a primary-elect in catch-up that rsguard did not step up for a lost
	// primary (MongoDB's own election, a sick-primary step-up, or too long ago): MongoDB decides.
	RefusedCatchUpNotOurs Reason = "refused_catch_up_not_ours"
	// RefusedFormerPrimaryAnswering: the former primary answers again (its own sidecar, a direct
	// probe, or a heartbeat after the step-up): catch-up may fetch from it and ends by itself.
	RefusedFormerPrimaryAnswering Reason = "refused_former_primary_answering"
	// RefusedCatchUpSourceAhead: a reachable member is ahead of the primary-elect, or a member's
	// optime is unknown: catch-up has something to fetch, and aborting it would roll it back.
	RefusedCatchUpSourceAhead Reason = "refused_catch_up_source_ahead"
	// RefusedPaused: an operator paused automatic actions; the pause is in the shared memory,
	// so every sidecar refuses until someone resumes.
	RefusedPaused Reason = "refused_paused"
	// RefusedOperatorAction: an operator's switchover, failover or resync is pending or running
	// (the shared memory's requests): its transient is not an incident.
	RefusedOperatorAction Reason = "refused_operator_action"
	// RefusedReplicationLagging: w:"majority" writes stall because the secondaries lag, while
	// the primary's own write path is fine (w:1 j:true fast): not a sick primary.
	RefusedReplicationLagging Reason = "refused_replication_lagging"
	// RefusedFenceNoLocalEvidence: a sick primary would be fenced first (PSA), but its own
	// sidecar does not witness the stall (its own w:1 j:true probe, its mongod's lastWrite):
	// remote probes alone never shut a mongod down.
	RefusedFenceNoLocalEvidence Reason = "refused_fence_no_local_evidence"
	// RefusedMongodsReachPrimary: the sidecars lost the primary but a majority of the voting
	// mongods still get fresh heartbeat replies from it (election/veto.go).
	RefusedMongodsReachPrimary Reason = "refused_mongods_reach_primary"
	// RefusedElectionQuiet: a term began within Policy.ElectionQuiet and nobody is a candidate;
	// rsguard waits the rest of the quiet period.
	RefusedElectionQuiet Reason = "refused_election_quiet"
	// RefusedNotExecutor: the action is addressed to another sidecar (Decision.Executor), which
	// decides and executes it on its own snapshot (election/executor.go).
	RefusedNotExecutor Reason = "refused_not_executor"
	// RefusedNoExecutor: no visible, ready sidecar can carry the action out: the target's own
	// sidecar is out of sight and no other sidecar advertises credentials to reach it.
	RefusedNoExecutor Reason = "refused_no_executor"
)

// Refused reports whether r is a refusal rather than an action or a healthy verdict.
func (r Reason) Refused() bool { return len(r) > 8 && r[:8] == "refused_" }

// kindReason is the reason for each kind that never acts (constant table).
var kindReason = [numKinds]Reason{
	Healthy:                          ReasonHealthy,
	LostQuorum:                       RefusedNoQuorum,
	NoPrimary:                        RefusedNoPrimary,
	ElectionInProgress:               RefusedElectionInProgress,
	PrimaryUnreachableFromMeOnly:     RefusedNotCorroborated,
	PrimaryUnreachableUncorroborated: RefusedNotCorroborated,
	SickPrimaryUncorroborated:        RefusedNotCorroborated,
	SickPrimaryPending:               RefusedNotSustained,
	SplitBrainSuspected:              RefusedNewerPrimaryExists,
	PrimaryProcessDead:               ReasonPrimaryProcessDead,
	PrimaryProcessUnresponsive:       ReasonPrimaryProcessUnresponsive,
	PrimaryHostUnreachable:           ReasonPrimaryHostUnreachable,
	SickPrimary:                      ReasonSickPrimary,
	StalePrimaryLingering:            ReasonStalePrimaryFence,
	PrimaryCatchingUp:                RefusedCatchUpNotOurs,
	ReplicationLagging:               RefusedReplicationLagging,
	PrimaryUnreachableSidecarsOnly:   RefusedMongodsReachPrimary,
	ElectionQuietPeriod:              RefusedElectionQuiet,
}
