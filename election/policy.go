package election

import "time"

// Policy is the per-set configuration of the decision core. config/ maps the YAML onto it; the
// zero value is valid but disabled, so a missing config can never cause a failover.
type Policy struct {
	// Enabled allows automatic actions. When false Decide still classifies and says what it
	// would do, with reason refused_policy_disabled.
	Enabled bool
	// DryRun: decide fully, execute nothing (reason refused_dry_run, Decision.Proposed set).
	DryRun bool

	// ElectionQuiet: a term that changed less than this ago means MongoDB's own election is at
	// work. Default 12 s: the documented median election time (spec §5.6).
	ElectionQuiet time.Duration

	// SickObservers is how many sidecars must report write trouble; never fewer than 2,
	// because one observer's slow probe is never enough (failover-notes, principle 2).
	SickObservers int
	// SickAfter is how long corroborated write trouble must last before acting.
	SickAfter time.Duration
	// ProbeFailures is the consecutive failed w:1 j:true write probes that make one sidecar a
	// witness (the w:"majority" probe never does: it stalls when the secondaries lag).
	ProbeFailures int
	// ProbeSlow: a w:1 j:true probe outstanding or taking longer than this makes a witness too;
	// a w:"majority" probe past it while no witness exists is replication lag.
	ProbeSlow time.Duration
	// WriteStall: the primary's lastWrite older than this makes its own sidecar a witness.
	// An idle primary still writes a periodic no-op every 10 s (spec §5.4). Zero disables.
	WriteStall time.Duration
	// SickStepDown uses replSetStepDown on a sick primary instead of replSetStepUp on the best
	// secondary. Off by default: a stepdown must take the RSTL, which a stalled write holds
	// (spec §6.1, failover-notes "Sick primary").
	SickStepDown bool
	// StepDownSecs is the replSetStepDown period (spec §6.1).
	StepDownSecs int

	// MaxLag is the most a candidate may trail the freshest known optime (including the lost
	// primary's last one); zero means no ceiling. It bounds the w:1 writes a failover rolls back.
	MaxLag time.Duration
	// PreferZones break ties between equally fresh candidates; AvoidZones are never promoted.
	PreferZones []string
	AvoidZones  []string
	// RequireTags: a candidate must carry every one of these replica-set member tags.
	RequireTags map[string]string
	// MinPriority: members whose replica-set priority is below it are never promoted (priority-0
	// members never are, whatever the floor).
	MinPriority float64

	// AntiFlapWindow blocks a second automatic failover of the set within this window unless
	// the first was acknowledged (orchestrator's recovery block).
	AntiFlapWindow time.Duration
	// PendingTimeout is how long an issued action is awaited before it may be issued again.
	PendingTimeout time.Duration
	// FenceAfter is how long an older-term primary may keep claiming PRIMARY before its own
	// sidecar stops its mongod. Zero disables fencing.
	FenceAfter time.Duration
	// FreezeSecs freezes a former primary that has a higher priority than its successor, so its
	// priority takeover (spec §5.2) does not undo a failover within the anti-flap window
	// (spec §6.2). Zero disables it.
	FreezeSecs int
	// AbortCatchUp lets the coordinator end the catch-up of a member it stepped up over a lost
	// primary when nothing is left to fetch (election/catchup.go).
	AbortCatchUp bool
	// HeartbeatFresh: a mongod's heartbeat reply from the primary (replSetGetStatus
	// lastHeartbeat) at most this old counts as the primary answering it, and a majority of such
	// mongods vetoes an "unreachable" verdict (election/veto.go). Default 3 s: one
	// heartbeatIntervalMillis (2 s, spec §5.1) and a margin. Zero disables the veto.
	HeartbeatFresh time.Duration
	// FenceDisabled (failover.fence_old_primary: false): where the rules call for a fence (an
	// older primary lingering FenceAfter, or PSA fence-first), refuse with
	// refused_fence_disabled instead, so the operator sees what was not done.
	FenceDisabled bool
}

// DefaultPolicy is the documented default: enabled, not dry-run. It is the one source of the
// defaults: config.Default() takes its failover and probe defaults from it, and a supervisor test
// checks that the default configuration maps back onto exactly this value.
func DefaultPolicy() Policy {
	return Policy{
		Enabled:        true,
		ElectionQuiet:  12 * time.Second,
		SickObservers:  2,
		SickAfter:      5 * time.Second,
		ProbeFailures:  2,
		ProbeSlow:      2 * time.Second,
		WriteStall:     30 * time.Second,
		StepDownSecs:   60,
		MaxLag:         10 * time.Second,
		AntiFlapWindow: 5 * time.Minute,
		PendingTimeout: 15 * time.Second,
		FenceAfter:     20 * time.Second,
		FreezeSecs:     120,
		AbortCatchUp:   true,
		HeartbeatFresh: 3 * time.Second,
	}
}

func (p Policy) sickObservers() int { return max(p.SickObservers, 2) }

func (p Policy) probeFailures() int { return max(p.ProbeFailures, 1) }

func (p Policy) stepDownSecs() int {
	if p.StepDownSecs <= 0 {
		return 60 // mongod's own default for 0 (spec §6.1)
	}
	return p.StepDownSecs
}
