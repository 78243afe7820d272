package mongoemu

import (
	"time"
)

// Primary catch-up (spec §5.4 step 2), after mongod's ReplicationCoordinatorImpl::CatchupState
// (replication_coordinator_impl.cpp, split into replication_coordinator_impl_catchup.cpp on
// master). The primary-elect restarts heartbeats; the catch-up target is only known once every
// other member has a heartbeat verdict since the restart (TopologyCoordinator::
// latestKnownOpTimeSinceHeartbeatRestart: "If any heartbeat is not fresh enough, return none").
// A member that does not answer (a frozen former primary) therefore holds the new primary in
// catch-up until its heartbeat fails for good: retries exhausted, or heartbeatTimeoutSecs after
// the heartbeat began. There is no grace period.

// catchUpConclusion is mongod's PrimaryCatchUpConclusionReason; each has an electionMetrics
// counter (replication_metrics.cpp incrementNumCatchUpsConcludedForReason).
type catchUpConclusion int

const (
	catchUpSucceeded catchUpConclusion = iota
	catchUpAlreadyCaughtUp
	catchUpSkipped
	catchUpTimedOut
	catchUpFailedWithError
	catchUpFailedWithNewTerm
	catchUpFailedWithAbortCmd
)

// catchUpState is one catch-up of a primary-elect. Guarded by n.mu.
type catchUpState struct {
	term      int64
	target    opTime // valid when hasTarget: the waiter's optime
	hasTarget bool
	numOps    int64         // oplog entries applied during catch-up
	done      chan struct{} // closed when concluded
}

// startCatchUpLocked is CatchupState::start, run under the lock as part of taking office so
// that replSetAbortPrimaryCatchUp finds the catch-up as soon as the node is PRIMARY. A
// single-member set and catchUpTimeoutMillis 0 skip catch-up.
func (rc *replCoord) startCatchUpLocked(term int64) *catchUpState {
	rc.n.events.info("REPL", 21359, "Entering primary catch-up mode")
	st := &catchUpState{term: term, done: make(chan struct{})}
	rc.catchUpSt = st
	if len(rc.cfg.members) == 1 {
		rc.n.events.info("REPL", 6015304, "Skipping primary catchup since we are the only node in the replica set.")
		rc.concludeCatchUpLocked(catchUpSkipped)
	} else if rc.cfg.settings.catchUpTimeout == 0 {
		rc.n.events.info("REPL", 21360, "Skipping primary catchup since the catchup timeout is 0")
		rc.concludeCatchUpLocked(catchUpSkipped)
	}
	return st
}

// catchUp waits until catch-up st concluded for any reason (then the caller enters drain mode,
// or finds it lost office). catchUpTimeoutMillis -1, the default, means no limit.
func (rc *replCoord) catchUp(st *catchUpState) {
	term := st.term
	rc.n.mu.Lock()
	timeout := rc.cfg.settings.catchUpTimeout
	rc.n.mu.Unlock()
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		rc.n.mu.Lock()
		if rc.catchUpSt != st {
			rc.n.mu.Unlock()
			return // concluded by replSetAbortPrimaryCatchUp
		}
		switch {
		case rc.term != term:
			rc.concludeCatchUpLocked(catchUpFailedWithNewTerm)
		case rc.leader != leaderCatchUp:
			rc.concludeCatchUpLocked(catchUpFailedWithError)
		default:
			rc.signalCatchUpLocked(st)
		}
		if rc.catchUpSt != st {
			rc.n.mu.Unlock()
			return
		}
		ch := rc.stateChanged
		rc.n.mu.Unlock()
		select {
		case <-ch:
		case <-st.done:
		case <-deadline:
			rc.n.mu.Lock()
			if rc.catchUpSt == st {
				rc.n.events.info("REPL", 21361, "Catchup timed out after becoming primary")
				rc.concludeCatchUpLocked(catchUpTimedOut)
			}
			rc.n.mu.Unlock()
		case <-rc.stopCh:
			rc.n.mu.Lock()
			if rc.catchUpSt == st {
				rc.concludeCatchUpLocked(catchUpFailedWithError)
			}
			rc.n.mu.Unlock()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// signalCatchUpLocked is CatchupState::signalHeartbeatUpdate plus the lastApplied waiter it
// installs: conclude once we reached the target, or once heartbeats show we already had it.
func (rc *replCoord) signalCatchUpLocked(st *catchUpState) {
	if st.hasTarget && !rc.lastApplied.less(st.target) {
		rc.n.events.info("REPL", 21368, "Caught up to the latest known optime successfully after becoming primary",
			"targetOpTime", fmtOpTime(st.target), "myLastApplied", fmtOpTime(rc.lastApplied))
		rc.noteCatchUpOpsLocked(st)
		rc.concludeCatchUpLocked(catchUpSucceeded)
		return
	}
	target, ok := rc.latestKnownOpTimeSinceHeartbeatRestartLocked()
	if !ok {
		return // "we haven't collected all heartbeat responses"
	}
	if !rc.lastApplied.less(target) {
		rc.n.events.info("REPL", 21364, "Caught up to the latest optime known via heartbeats after becoming primary",
			"targetOpTime", fmtOpTime(target), "myLastApplied", fmtOpTime(rc.lastApplied))
		rc.noteCatchUpOpsLocked(st)
		rc.concludeCatchUpLocked(catchUpAlreadyCaughtUp)
		return
	}
	if st.hasTarget && st.target == target {
		return
	}
	if !st.hasTarget {
		rc.electionStats.catchUps++ // counted once per catch-up, when the first waiter is set
	}
	st.target, st.hasTarget = target, true
	if rc.candidate != nil {
		rc.candidate.targetCatchup = target
		rc.candidate.hasTargetCatchup = true
	}
	rc.n.events.info("REPL", 21365, "Heartbeats updated catchup target optime", "targetOpTime", fmtOpTime(target))
}

// noteCatchUpOpsLocked is ReplicationMetrics::setNumCatchUpOps: electionCandidateMetrics gets
// numCatchUpOps, and averageCatchUpOps is the integer mean over numCatchUps.
func (rc *replCoord) noteCatchUpOpsLocked(st *catchUpState) {
	if rc.candidate != nil {
		n := st.numOps
		rc.candidate.numCatchUpOps = &n
	}
	rc.electionStats.totalCatchUpOps += st.numOps
}

// concludeCatchUpLocked is CatchupState::abort: count the reason, log 21363 and leave catch-up.
// The catch-up goroutine then enters drain mode.
func (rc *replCoord) concludeCatchUpLocked(why catchUpConclusion) {
	st := rc.catchUpSt
	if st == nil {
		return
	}
	s := &rc.electionStats
	switch why {
	case catchUpSucceeded:
		s.catchUpsSucceeded++
	case catchUpAlreadyCaughtUp:
		s.catchUpsAlready++
	case catchUpSkipped:
		s.catchUpsSkipped++
	case catchUpTimedOut:
		s.catchUpsTimedOut++
	case catchUpFailedWithError:
		s.catchUpsFailedWithError++
	case catchUpFailedWithNewTerm:
		s.catchUpsFailedWithNewTerm++
	case catchUpFailedWithAbortCmd:
		s.catchUpsAborted++
	}
	rc.n.events.info("REPL", 21363, "Exited primary catch-up mode")
	rc.catchUpSt = nil
	close(st.done)
	rc.signalLocked()
}

// latestKnownOpTimeSinceHeartbeatRestartLocked: the newest applied optime among members that
// are up, once every other member has a heartbeat verdict since the restart; ok is false
// while any has not. Down members (arbiters too, whose optime is null) add nothing but must
// still have their verdict.
func (rc *replCoord) latestKnownOpTimeSinceHeartbeatRestartLocked() (opTime, bool) {
	latest := opTime{} // OpTime(Timestamp(0, 0), 0), the smallest in pv1
	for i := range rc.members {
		if i == rc.self {
			continue
		}
		m := rc.members[i]
		if !m.updatedSinceRestart {
			return opTime{}, false
		}
		if !m.up || rc.cfg.members[i].arbiterOnly {
			continue
		}
		if latest.less(m.applied) {
			latest = m.applied
		}
	}
	return latest, true
}

// restartHeartbeatsLocked is what a primary-elect does after winning (_cancelHeartbeats then
// _startHeartbeats, replication_coordinator_impl_heartbeat.cpp): cancel every heartbeat,
// including those in flight, send new ones at once, and per member clear the "updated since
// restart" mark and count it as alive now (TopologyCoordinator::restartHeartbeat).
func (rc *replCoord) restartHeartbeatsLocked() {
	now := time.Now()
	rc.hbEpoch++
	for i := range rc.members {
		if i == rc.self {
			continue
		}
		m := &rc.members[i]
		m.updatedSinceRestart = false
		m.lastUpdate, m.lastUpdateStale = now, false
	}
	for _, t := range rc.hbTargets {
		if t.inFlight && t.cancel != nil {
			t.cancel()
		}
		t.next = now
	}
	rc.kickHeartbeat("*")
}

// averageCatchUpOps is ReplicationMetrics::_updateAverageCatchUpOps: total catch-up ops over
// numCatchUps, in integer arithmetic.
func (s electionCounters) averageCatchUpOps() float64 {
	if s.catchUps == 0 {
		return 0
	}
	return float64(s.totalCatchUpOps / s.catchUps)
}
