package mongoemu

import (
	"math/rand/v2"
	"time"
)

// Takeovers a secondary schedules when a heartbeat reply from the primary of our term arrives
// (TopologyCoordinator::_shouldTakeOverPrimary, topology_coordinator.cpp; scheduling in
// _handleHeartbeatResponseAction, replication_coordinator_impl_heartbeat.cpp):
//   - priority takeover, when the primary has a lower priority than us, after
//     (priorityRank+1) × electionTimeoutMillis plus a random offset in
//     [0, electionTimeoutMillis × electionTimeoutOffsetLimitFraction) (_getRandomizedElectionOffset);
//   - catch-up takeover, when the primary is still in catch-up (nothing applied in the current
//     term) and we are fresher than it, after catchUpTakeoverDelayMillis (default 30 s), unless
//     catch-up or catch-up takeover is disabled (catchUpTimeoutMillis 0,
//     catchUpTakeoverDelayMillis -1).
// A node with the highest priority that qualifies for both does a priority takeover; otherwise
// catch-up takeover is preferred. Only one takeover is scheduled at a time.

// maybeScheduleTakeoverLocked is called for a heartbeat reply from the primary of our term.
func (rc *replCoord) maybeScheduleTakeoverLocked(primaryIdx int) {
	if rc.self < 0 || rc.leader != leaderNone || primaryIdx != rc.primary || rc.members[primaryIdx].term != rc.term {
		return
	}
	self := rc.selfConfig()
	if self.priority <= 0 {
		return
	}
	s := rc.cfg.settings
	catchUpDisabled := s.catchUpTimeout == 0 || s.catchUpTakeoverDelay < 0
	// Anything applied in our term means the primary already left catch-up.
	primaryCaughtUp := rc.lastApplied.term == rc.term
	catchUp := !catchUpDisabled && !primaryCaughtUp && rc.members[primaryIdx].applied.less(rc.lastApplied)
	priority := rc.cfg.members[primaryIdx].priority < self.priority
	now := time.Now()
	switch {
	case catchUp && (!priority || rc.priorityRankLocked() != 0):
		if rc.catchUpTakeover.IsZero() && rc.takeoverAt.IsZero() {
			rc.catchUpTakeover = now.Add(s.catchUpTakeoverDelay)
			rc.n.events.info("ELECTION", 4615648, "Scheduling catchup takeover", "when", rc.catchUpTakeover.UTC().Format(time.RFC3339Nano))
		}
	case priority:
		if rc.takeoverAt.IsZero() && rc.catchUpTakeover.IsZero() {
			delay := time.Duration(rc.priorityRankLocked()+1) * s.electionTimeout
			rc.takeoverAt = now.Add(delay + rc.randomElectionOffsetLocked())
			rc.n.events.info("ELECTION", 4615601, "Scheduling priority takeover", "when", rc.takeoverAt.UTC().Format(time.RFC3339Nano))
		}
	}
}

// priorityRankLocked is ReplSetConfig::calculatePriorityRank: members with a higher priority.
func (rc *replCoord) priorityRankLocked() int {
	mine, rank := rc.selfConfig().priority, 0
	for _, m := range rc.cfg.members {
		if m.priority > mine {
			rank++
		}
	}
	return rank
}

// randomElectionOffsetLocked is _getRandomizedElectionOffset: uniform in
// [0, electionTimeoutMillis × replElectionTimeoutOffsetLimitFraction), 0.15 by default.
func (rc *replCoord) randomElectionOffsetLocked() time.Duration {
	upper := int64(float64(rc.cfg.settings.electionTimeout.Milliseconds()) * rc.n.params.floatValue("replElectionTimeoutOffsetLimitFraction"))
	if upper <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(upper)) * time.Millisecond
}

// cancelCatchUpTakeoverIfCaughtUpLocked: a heartbeat reply showing a write applied in the
// current term means the primary left catch-up (_handleHeartbeatResponse).
func (rc *replCoord) cancelCatchUpTakeoverIfCaughtUpLocked(applied opTime) {
	if !rc.catchUpTakeover.IsZero() && applied.term == rc.term {
		rc.catchUpTakeover = time.Time{}
	}
}

// freshForCatchupTakeoverLocked is _amIFreshEnoughForCatchupTakeover: we have the freshest
// optime of all up members, are strictly ahead of the primary, and nothing was applied in the
// current term (the primary is still catching up).
func (rc *replCoord) freshForCatchupTakeoverLocked() bool {
	for i, m := range rc.members {
		if i != rc.self && m.up && m.state != stateRemoved && rc.lastApplied.less(m.applied) {
			return false
		}
	}
	if rc.primary < 0 || rc.primary == rc.self {
		return false
	}
	if !rc.members[rc.primary].applied.less(rc.lastApplied) {
		return false
	}
	return rc.lastApplied.term < rc.term
}

// notElectableLog is the line _startElectSelfIfEligibleV1 logs when becomeCandidateIfElectable
// refuses, by election reason.
func notElectableLog(reason string) (int, string) {
	switch reason {
	case reasonPriorityTakeover:
		return 4615656, "Not starting an election for a priority takeover, since we are not electable"
	case reasonStepUp, reasonStepUpSkipDryRun:
		return 4615657, "Not starting an election for a replSetStepUp request, since we are not electable"
	case reasonCatchupTakeover:
		return 4615658, "Not starting an election for a catchup takeover, since we are not electable"
	case reasonSingleNode:
		return 4764800, "Not starting an election for a single node replica set prompt election, since we are not electable"
	}
	return 4615655, "Not starting an election, since we are not electable"
}
