package mongoemu

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/storage"
)

// Election reasons as electionCandidateMetrics.lastElectionReason spells them (spec §3.3).
const (
	reasonElectionTimeout  = "electionTimeout"
	reasonPriorityTakeover = "priorityTakeover"
	reasonStepUp           = "stepUpRequest"
	reasonStepUpSkipDryRun = "stepUpRequestSkipDryRun"
	reasonSingleNode       = "singleNodePromptElection"
	reasonCatchupTakeover  = "catchupTakeover"
)

type electionCounters struct {
	stepUpCalled, stepUpOK                       int64
	priorityCalled, priorityOK                   int64
	timeoutCalled, timeoutOK                     int64
	freezeCalled, freezeOK                       int64
	stepDownsHigherTerm                          int64
	catchUps, catchUpsSucceeded, catchUpsAlready int64

	catchUpTakeoverCalled, catchUpTakeoverOK int64
	catchUpsSkipped, catchUpsTimedOut        int64
	catchUpsFailedWithError                  int64
	catchUpsFailedWithNewTerm                int64
	catchUpsAborted                          int64 // numCatchUpsFailedWithReplSetAbortPrimaryCatchUpCmd
	totalCatchUpOps                          int64
}

type candidateMetrics struct {
	reason             string
	date               time.Time
	term               int64
	lastCommitted      opTime
	lastSeen           opTime
	votesNeeded        int
	priority           float64
	electionTimeout    time.Duration
	priorPrimary       int
	newTermStart       time.Time
	wMajorityAvailable time.Time

	// Set during catch-up (ReplicationMetrics::setTargetCatchupOpTime / setNumCatchUpOps).
	targetCatchup    opTime
	hasTargetCatchup bool
	numCatchUpOps    *int64
}

type participantMetrics struct {
	voted        bool
	term         int64
	date         time.Time
	candidateID  int
	reason       string
	lastApplied  opTime
	maxApplied   opTime
	priority     float64
	newTermStart time.Time
}

// electionLoop fires the election timer and scheduled priority takeovers (spec §5.2) and
// enforces a primary's majority liveness (spec §5.1).
func (rc *replCoord) electionLoop() {
	defer rc.wg.Done()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-rc.stopCh:
			return
		case <-tick.C:
		}
		now := time.Now()
		rc.n.mu.Lock()
		var reason string
		if rc.cfg != nil && rc.self >= 0 {
			rc.checkMemberTimeoutsLocked(now)
		}
		switch {
		case rc.cfg == nil || rc.self < 0 || rc.running:
		case rc.leader != leaderNone:
		case !rc.catchUpTakeover.IsZero() && now.After(rc.catchUpTakeover):
			rc.catchUpTakeover = time.Time{}
			reason = reasonCatchupTakeover // eligibility: unelectableReasonForLocked
		case !rc.takeoverAt.IsZero() && now.After(rc.takeoverAt):
			rc.takeoverAt = time.Time{}
			if rc.primary >= 0 && rc.cfg.members[rc.primary].priority < rc.selfConfig().priority {
				reason = reasonPriorityTakeover
			}
		case rc.electionDeadline.IsZero():
			rc.resetElectionTimerLocked()
		case now.After(rc.electionDeadline):
			rc.resetElectionTimerLocked()
			if rc.unelectableReasonLocked(now) == "" && !rc.primaryInTermSeenLocked() {
				reason = reasonElectionTimeout
			}
		}
		rc.n.mu.Unlock()
		if reason != "" {
			_ = rc.runElection(context.Background(), reason, false)
		}
	}
}

// primaryInTermSeenLocked: a primary of our term answered recently, so the timer should not fire.
func (rc *replCoord) primaryInTermSeenLocked() bool {
	if rc.primary < 0 || rc.primary == rc.self {
		return false
	}
	m := rc.members[rc.primary]
	return m.up && m.state == statePrimary && m.leaderTerm == rc.term &&
		time.Since(m.lastHeartbeat) < rc.cfg.settings.electionTimeout
}

// checkMemberTimeoutsLocked is TopologyCoordinator::checkMemberTimeouts, run by the liveness
// timer on every member: a member whose lastUpdate (heartbeat replies, heartbeats received from
// it, replSetUpdatePosition) is electionTimeoutMillis old is marked stale once; a primary then
// marks it down (health 0, "no response within election timeout period") and steps down when
// it can no longer see a majority of voters (setMemberAsDown + CannotSeeMajority). Members whose
// heartbeats fail but that keep talking to us never go stale, so they never trigger a stepdown
// on their own.
func (rc *replCoord) checkMemberTimeoutsLocked(now time.Time) {
	et := rc.cfg.settings.electionTimeout
	stepdown := false
	for i := range rc.members {
		m := &rc.members[i]
		if i == rc.self || m.lastUpdateStale || now.Sub(m.lastUpdate) < et {
			continue
		}
		m.lastUpdateStale = true
		if rc.leader == leaderNone {
			continue
		}
		rc.setMemberDownLocked(i, "no response within election timeout period")
		if !rc.aMajoritySeemsUpLocked() {
			stepdown = true
		}
	}
	if !stepdown || rc.leader == leaderSteppingDown || rc.leader == leaderNone {
		return
	}
	rc.n.events.info("REPL", 21809, "Can't see a majority of the set, relinquishing primary")
	rc.leader = leaderSteppingDown
	rc.bumpLocked()
	go rc.stepDownUnconditionally("Can't see a majority of the set")
}

// setMemberDownLocked is MemberData::setDownValues for a member that went silent.
func (rc *replCoord) setMemberDownLocked(i int, msg string) {
	m := &rc.members[i]
	wasUp := m.up
	m.up, m.contacted, m.state, m.upSince, m.message = false, true, stateDown, time.Time{}, msg
	m.updatedSinceRestart = true
	if wasUp {
		rc.n.events.info("REPL", 21216, "Member is now in state RS_DOWN", "hostAndPort", rc.cfg.members[i].host, "heartbeatMessage", msg)
	}
	rc.signalLocked()
}

// aMajoritySeemsUpLocked is _aMajoritySeemsToBeUp: the votes of members that are up, and ours,
// are more than half of all votes.
func (rc *replCoord) aMajoritySeemsUpLocked() bool {
	up, total := 0, 0
	for i, m := range rc.cfg.members {
		total += m.votes
		if i == rc.self || (i < len(rc.members) && rc.members[i].up) {
			up += m.votes
		}
	}
	return up*2 > total
}

// unelectableReasonLocked mirrors _getMyUnelectableReason for an election timeout (spec §5.2);
// "" means electable.
func (rc *replCoord) unelectableReasonLocked(now time.Time) string {
	return rc.unelectableReasonForLocked(now, reasonElectionTimeout)
}

// unelectableReasonForLocked is _getMyUnelectableReason (topology_coordinator.cpp) for an
// election started for reason; the first reason in mongod's order wins.
func (rc *replCoord) unelectableReasonForLocked(now time.Time, reason string) string {
	switch {
	case rc.cfg == nil || rc.self < 0:
		return "node is not a member of a valid replica set configuration"
	case rc.lastApplied.isNull():
		return "node has no applied oplog entries"
	case !rc.aMajoritySeemsUpLocked():
		return "I cannot see a majority"
	case rc.selfConfig().arbiterOnly:
		return "member is an arbiter"
	case rc.selfConfig().priority <= 0:
		return "member has zero priority"
	case now.Before(rc.stepDownUntil):
		return "I am still waiting for stepdown period to end at " + rc.stepDownUntil.UTC().Format(time.RFC3339)
	case rc.stateLocked() != stateSecondary:
		return "member is not currently a secondary"
	case reason == reasonPriorityTakeover && !rc.freshForTakeoverLocked():
		return "member is not caught up enough to the most up-to-date member to call for priority takeover - must be within " +
			itoa(int(rc.n.params.intValue("priorityTakeoverFreshnessWindowSeconds"))) + " seconds"
	case reason == reasonCatchupTakeover && !rc.freshForCatchupTakeoverLocked():
		return "member is either not the most up-to-date member or not ahead of the primary, and therefore cannot call for catchup takeover"
	}
	return ""
}

// freshForTakeoverLocked: within priorityTakeoverFreshnessWindowSeconds of the primary (§5.2).
func (rc *replCoord) freshForTakeoverLocked() bool {
	if rc.primary < 0 {
		return false
	}
	p := rc.members[rc.primary].applied
	if p.term != rc.lastApplied.term {
		return false
	}
	window := uint32(rc.n.params.intValue("priorityTakeoverFreshnessWindowSeconds"))
	return rc.lastApplied.ts.T+window >= p.ts.T
}

// runElection runs a dry run (unless skipped) and a real election (spec §5.3). It returns nil
// when this node won.
func (rc *replCoord) runElection(ctx context.Context, reason string, skipDryRun bool) error {
	rc.n.mu.Lock()
	if rc.running {
		rc.n.mu.Unlock()
		return fmt.Errorf("an election is already running")
	}
	if why := rc.unelectableReasonForLocked(time.Now(), reason); why != "" {
		// _startElectSelfIfEligibleV1: not counted as an election called.
		id, msg := notElectableLog(reason)
		rc.n.events.info("ELECTION", id, msg, "reason", "Not standing for election because "+why)
		rc.n.mu.Unlock()
		return fmt.Errorf("not electable: %s", why)
	}
	rc.running = true
	rc.countElectionLocked(reason, false)
	term := rc.term
	// A catch-up takeover's dry run needs the primary's yes (_startElectSelfV1: primaryIndex).
	needYes := ""
	if reason == reasonCatchupTakeover && rc.primary >= 0 {
		needYes = rc.cfg.members[rc.primary].host
	}
	rc.n.mu.Unlock()
	defer func() {
		rc.n.mu.Lock()
		rc.running = false
		rc.n.mu.Unlock()
	}()
	if !skipDryRun {
		rc.n.events.info("ELECTION", 21438, "Conducting a dry run election to see if we could be elected", "currentTerm", term, "reason", reason)
		// The dry run proposes our current term, not term+1 (_startElectSelfV1 passes
		// getTerm() to VoteRequester; the real election then runs in term+1).
		if ok, why := rc.requestVotes(ctx, term, true, needYes); !ok {
			rc.n.events.info("ELECTION", 21440, "Not running for primary, we received insufficient votes", "reason", why)
			return fmt.Errorf("dry run failed: %s", why)
		}
	}
	// Real election: bump the term and vote for ourselves durably before asking others.
	rc.n.mu.Lock()
	if rc.term != term || rc.unelectableReasonLocked(time.Now()) != "" {
		rc.n.mu.Unlock()
		return fmt.Errorf("term or state changed during the dry run")
	}
	rc.term = term + 1
	rc.lastVoteTerm, rc.lastVoteFor = rc.term, rc.selfConfig().id
	newTerm := rc.term
	selfID := rc.lastVoteFor
	rc.bumpLocked()
	rc.n.mu.Unlock()
	if err := rc.persistLastVote(newTerm, selfID); err != nil {
		return fmt.Errorf("persist own vote: %w", err)
	}
	rc.n.events.info("ELECTION", 21450, "Running for election", "term", newTerm, "reason", reason)
	ok, why := rc.requestVotes(ctx, newTerm, false, "")
	if !ok {
		rc.n.events.info("ELECTION", 21444, "Lost election", "term", newTerm, "reason", why)
		return fmt.Errorf("election lost: %s", why)
	}
	return rc.becomePrimary(newTerm, reason)
}

func (rc *replCoord) countElectionLocked(reason string, won bool) {
	s := &rc.electionStats
	inc := func(called, ok *int64) {
		if won {
			*ok++
		} else {
			*called++
		}
	}
	switch reason {
	case reasonStepUp, reasonStepUpSkipDryRun:
		inc(&s.stepUpCalled, &s.stepUpOK)
	case reasonPriorityTakeover:
		inc(&s.priorityCalled, &s.priorityOK)
	case reasonSingleNode:
		inc(&s.freezeCalled, &s.freezeOK)
	case reasonCatchupTakeover:
		inc(&s.catchUpTakeoverCalled, &s.catchUpTakeoverOK)
	default:
		inc(&s.timeoutCalled, &s.timeoutOK)
	}
}

func (rc *replCoord) persistLastVote(term int64, candidate int) error {
	b, _ := bson.Marshal(bson.D{{Key: "term", Value: term}, {Key: "candidateIndex", Value: int32(candidate)}})
	return rc.n.store.PutMeta(metaLastVote, b)
}

// requestVotes asks every other voter in parallel and reports whether a majority (counting our
// own vote) granted. A dry run proposes term without bumping it. With needYes set, a "no" from
// that host loses at once (VoteRequester kPrimaryRespondedNo).
func (rc *replCoord) requestVotes(ctx context.Context, term int64, dryRun bool, needYes string) (bool, string) {
	rc.n.mu.Lock()
	cfg := rc.cfg
	self := rc.self
	cmd := bson.D{{Key: "replSetRequestVotes", Value: int32(1)}, {Key: "setName", Value: cfg.name},
		{Key: "dryRun", Value: dryRun}, {Key: "term", Value: term}, {Key: "candidateIndex", Value: int32(cfg.members[self].id)},
		{Key: "configVersion", Value: cfg.version}, {Key: "configTerm", Value: cfg.term},
		{Key: "lastAppliedOpTime", Value: rc.lastApplied.doc()}, {Key: "$db", Value: "admin"}}
	timeout := cfg.settings.electionTimeout
	rc.n.mu.Unlock()
	need := cfg.majorityVoteCount()
	var mu sync.Mutex
	yes, answered, voters := 1, 0, 0
	primaryAnswered, primaryYes := false, false
	var reasons []string
	done := make(chan struct{}, len(cfg.members))
	for i, m := range cfg.members {
		if i == self || !m.isVoter() {
			continue
		}
		voters++
		go func(host string) {
			defer func() { done <- struct{}{} }()
			reply, err := rc.callOnce(ctx, host, cmd, timeout)
			mu.Lock()
			defer mu.Unlock()
			answered++
			if err != nil {
				reasons = append(reasons, host+": "+err.Error())
				primaryAnswered = primaryAnswered || host == needYes
				return
			}
			if t, _ := numberAsInt64(reply.Lookup("term")); t > term {
				rc.n.mu.Lock()
				rc.updateTermLocked(t, "vote reply from "+host)
				rc.n.mu.Unlock()
			}
			g, _ := reply.Lookup("voteGranted").BooleanOK()
			if host == needYes {
				primaryAnswered, primaryYes = true, g
			}
			if g {
				yes++
			} else {
				why, _ := reply.Lookup("reason").StringValueOK()
				reasons = append(reasons, host+": "+why)
			}
		}(m.host)
	}
	for answeredCount := 0; ; answeredCount++ {
		mu.Lock()
		won := yes >= need && (needYes == "" || primaryYes)
		lost := yes+(voters-answered) < need || (primaryAnswered && !primaryYes)
		mu.Unlock()
		if won {
			return true, ""
		}
		if lost || answeredCount >= voters {
			mu.Lock()
			defer mu.Unlock()
			return false, fmt.Sprintf("received %d of %d needed votes: %v", yes, need, reasons)
		}
		select {
		case <-done:
		case <-rc.stopCh:
			return false, "shutting down"
		}
	}
}

// becomePrimary: won the election for term. Take office (PRIMARY, in catch-up mode) and restart
// heartbeats, then return: catch-up, drain and the "new primary" no-op follow in the background
// (spec §5.4). replSetStepUp answers here, as stepUpIfEligible (replication_coordinator_impl_
// elect_v1.cpp) only waits for the election-finished event, signalled once the win is processed
// (_postWonElectionUpdateMemberState: PRIMARY, heartbeats restarted, catch-up started).
func (rc *replCoord) becomePrimary(term int64, reason string) error {
	rc.n.mu.Lock()
	if rc.term != term {
		rc.n.mu.Unlock()
		return fmt.Errorf("term moved on to %d before taking office", rc.term)
	}
	now := time.Now()
	old := rc.stateLocked()
	prior := memberIDOf(rc.cfg, rc.primary)
	rc.leader = leaderCatchUp
	rc.primary = rc.self
	rc.takeoverAt, rc.catchUpTakeover = time.Time{}, time.Time{}
	rc.electionTime = bson.Timestamp{T: uint32(now.Unix()), I: 1}
	rc.leaderTerm = term
	rc.electionDate = now
	rc.candidate = &candidateMetrics{reason: reason, date: now, term: term, lastCommitted: rc.commitPoint,
		lastSeen: rc.lastApplied, votesNeeded: rc.cfg.majorityVoteCount(), priority: rc.selfConfig().priority,
		electionTimeout: rc.cfg.settings.electionTimeout, priorPrimary: prior}
	rc.countElectionLocked(reason, true)
	rc.logTransitionLocked(old, statePrimary)
	rc.n.events.info("ELECTION", 21450, "Election succeeded, assuming primary role", "term", term)
	// Announce the win and make every member's heartbeat verdict count from now (spec §5.4
	// step 1, repl_catchup.go).
	rc.restartHeartbeatsLocked()
	st := rc.startCatchUpLocked(term)
	rc.bumpLocked()
	rc.n.mu.Unlock()
	select {
	case <-rc.stopCh:
		rc.n.mu.Lock()
		rc.concludeCatchUpLocked(catchUpFailedWithError)
		rc.n.mu.Unlock()
		return nil
	default:
	}
	rc.wg.Add(1)
	go func() {
		defer rc.wg.Done()
		_ = rc.completeTransitionToPrimary(st) // a failed write logs; a lost term needs nothing
	}()
	return nil
}

// completeTransitionToPrimary: catch up, drain, write the "new primary" no-op in the new term,
// then accept writes (spec §5.4 steps 2-5).
func (rc *replCoord) completeTransitionToPrimary(st *catchUpState) error {
	term := st.term
	rc.catchUp(st)
	select {
	case <-rc.stopCh:
		return fmt.Errorf("shutting down during catch-up") // no drain write into a closing store
	default:
	}

	rc.n.mu.Lock()
	if rc.term != term || rc.leader == leaderNone {
		rc.n.mu.Unlock()
		return fmt.Errorf("stepped down during catch-up")
	}
	rc.leader = leaderDrain
	rc.syncSource = ""
	rc.bumpLocked()
	rc.n.mu.Unlock()
	rc.waitDrainSignal(term) // repl_applier.go: the applier signals drain complete

	// signalDrainComplete takes the RSTL in X before the first write of the term, with the
	// kill-op step and the fassertOnLockTimeoutForStepUpDown cap (AutoGetRstlForStepUpStepDown,
	// kStepUp): an fsyncLocked member that wins an election aborts here.
	rstl, err := rc.acquireRSTLForTransition(context.Background(), transitionStepUp, time.Time{}, nil)
	if err != nil {
		return fmt.Errorf("take office: %w", err)
	}
	rc.oplogMu.Lock()
	unlock := func() {
		rc.oplogMu.Unlock()
		rstl.unlock()
	}
	res, err := rc.commitWithOplog(term, nil, func(_ *storage.Tx, ol *opLog) error {
		ol.Noop(bson.D{{Key: "msg", Value: "new primary"}})
		return nil
	})
	if err != nil {
		unlock()
		rc.n.events.errorf("REPL", 21359, "Failed to write the new primary entry", "error", err.Error())
		go rc.stepDownUnconditionally("could not write the new term's first entry")
		return err
	}
	rc.n.mu.Lock()
	rc.firstOpOfTerm = res.opTime
	if rc.candidate != nil {
		rc.candidate.newTermStart = time.Now()
	}
	if rc.term == term && rc.leader == leaderDrain {
		rc.leader = leaderWritable
		// Installed configs are immutable (readers persist them without the lock): copy to bump.
		bumped := *rc.cfg
		bumped.term = term
		rc.cfg = &bumped
		cfg := rc.cfg
		rc.updateCommitPointLocked()
		rc.n.events.info("REPL", 21331, "Transition to primary complete; database writes are now permitted", "term", term)
		rc.bumpLocked()
		rc.n.mu.Unlock()
		unlock()
		rc.persistConfig(cfg)
		return nil
	}
	rc.n.mu.Unlock()
	unlock()
	return fmt.Errorf("lost primary role while draining")
}
