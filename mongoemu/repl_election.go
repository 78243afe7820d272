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
)

type electionCounters struct {
	stepUpCalled, stepUpOK                       int64
	priorityCalled, priorityOK                   int64
	timeoutCalled, timeoutOK                     int64
	freezeCalled, freezeOK                       int64
	stepDownsHigherTerm                          int64
	catchUps, catchUpsSucceeded, catchUpsAlready int64
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
		switch {
		case rc.cfg == nil || rc.self < 0 || rc.running:
		case rc.leader != leaderNone:
			rc.checkMajorityLivenessLocked(now)
		case !rc.takeoverAt.IsZero() && now.After(rc.takeoverAt):
			rc.takeoverAt = time.Time{}
			if rc.freshForTakeoverLocked() && rc.primary >= 0 && rc.cfg.members[rc.primary].priority < rc.selfConfig().priority {
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

// checkMajorityLivenessLocked: a primary that has not heard from a majority of voters within
// electionTimeoutMillis steps down ("Can't see a majority of the set, relinquishing primary").
func (rc *replCoord) checkMajorityLivenessLocked(now time.Time) {
	if rc.leader == leaderSteppingDown {
		return
	}
	et := rc.cfg.settings.electionTimeout
	seen := 0
	for i, m := range rc.cfg.members {
		if !m.isVoter() {
			continue
		}
		if i == rc.self || (rc.members[i].up && now.Sub(rc.members[i].lastUpdate) < et) {
			seen++
		}
	}
	if seen < rc.cfg.majorityVoteCount() {
		rc.n.events.info("REPL", 21809, "Can't see a majority of the set, relinquishing primary")
		rc.leader = leaderSteppingDown
		rc.bumpLocked()
		go rc.stepDownUnconditionally("Can't see a majority of the set")
	}
}

// unelectableReasonLocked mirrors _getMyUnelectableReason (spec §5.2); "" means electable.
func (rc *replCoord) unelectableReasonLocked(now time.Time) string {
	switch {
	case rc.cfg == nil || rc.self < 0:
		return "node is not a member of a valid replica set configuration"
	case rc.selfConfig().arbiterOnly:
		return "member is an arbiter"
	case rc.selfConfig().priority <= 0:
		return "member has zero priority"
	case rc.lastApplied.isNull():
		return "node has no applied oplog entries"
	case now.Before(rc.stepDownUntil):
		return "I am still waiting for stepdown period to end at " + rc.stepDownUntil.UTC().Format(time.RFC3339)
	case rc.stateLocked() != stateSecondary:
		return "member is not currently a secondary"
	}
	return ""
}

// maybeScheduleTakeoverLocked: a primary of lower priority than us gets taken over after
// (priorityRank+1) × electionTimeout (spec §5.2).
func (rc *replCoord) maybeScheduleTakeoverLocked(primaryIdx int) {
	if rc.self < 0 || rc.leader != leaderNone || !rc.takeoverAt.IsZero() {
		return
	}
	mine := rc.selfConfig().priority
	if rc.cfg.members[primaryIdx].priority >= mine || !rc.selfConfig().isElectable() {
		return
	}
	rank := 0
	for _, m := range rc.cfg.members {
		if m.priority > mine {
			rank++
		}
	}
	rc.takeoverAt = time.Now().Add(time.Duration(rank+1) * rc.cfg.settings.electionTimeout)
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
	if why := rc.unelectableReasonLocked(time.Now()); why != "" {
		rc.n.mu.Unlock()
		return fmt.Errorf("not electable: %s", why)
	}
	rc.running = true
	rc.countElectionLocked(reason, false)
	term := rc.term
	rc.n.mu.Unlock()
	defer func() {
		rc.n.mu.Lock()
		rc.running = false
		rc.n.mu.Unlock()
	}()
	if !skipDryRun {
		rc.n.events.info("ELECTION", 21438, "Conducting a dry run election to see if we could be elected", "currentTerm", term, "reason", reason)
		if ok, why := rc.requestVotes(ctx, term+1, true); !ok {
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
	ok, why := rc.requestVotes(ctx, newTerm, false)
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
	default:
		inc(&s.timeoutCalled, &s.timeoutOK)
	}
}

func (rc *replCoord) persistLastVote(term int64, candidate int) error {
	b, _ := bson.Marshal(bson.D{{Key: "term", Value: term}, {Key: "candidateIndex", Value: int32(candidate)}})
	return rc.n.store.PutMeta(metaLastVote, b)
}

// requestVotes asks every other voter in parallel and reports whether a majority (counting our
// own vote) granted. A dry run proposes term without bumping it.
func (rc *replCoord) requestVotes(ctx context.Context, term int64, dryRun bool) (bool, string) {
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
	var reasons []string
	done := make(chan struct{}, len(cfg.members))
	for i, m := range cfg.members {
		if i == self || !m.isVoter() {
			continue
		}
		voters++
		go func(host string) {
			defer func() { done <- struct{}{} }()
			reply, err := callOnce(ctx, host, cmd, timeout)
			mu.Lock()
			defer mu.Unlock()
			answered++
			if err != nil {
				reasons = append(reasons, host+": "+err.Error())
				return
			}
			if t, _ := numberAsInt64(reply.Lookup("term")); t > term {
				rc.n.mu.Lock()
				rc.updateTermLocked(t, "vote reply from "+host)
				rc.n.mu.Unlock()
			}
			if g, _ := reply.Lookup("voteGranted").BooleanOK(); g {
				yes++
			} else {
				why, _ := reply.Lookup("reason").StringValueOK()
				reasons = append(reasons, host+": "+why)
			}
		}(m.host)
	}
	for answeredCount := 0; ; answeredCount++ {
		mu.Lock()
		won := yes >= need
		lost := yes+(voters-answered) < need
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

// becomePrimary: won the election for term. Catch up, drain, write the "new primary" no-op in
// the new term, then accept writes (spec §5.4).
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
	rc.takeoverAt = time.Time{}
	rc.electionTime = bson.Timestamp{T: uint32(now.Unix()), I: 1}
	rc.leaderTerm = term
	rc.electionDate = now
	rc.candidate = &candidateMetrics{reason: reason, date: now, term: term, lastCommitted: rc.commitPoint,
		lastSeen: rc.lastApplied, votesNeeded: rc.cfg.majorityVoteCount(), priority: rc.selfConfig().priority,
		electionTimeout: rc.cfg.settings.electionTimeout, priorPrimary: prior}
	rc.countElectionLocked(reason, true)
	rc.logTransitionLocked(old, statePrimary)
	rc.n.events.info("ELECTION", 21450, "Election succeeded, assuming primary role", "term", term)
	rc.bumpLocked()
	rc.n.mu.Unlock()
	rc.kickHeartbeat("*") // announce the win (spec §5.4 step 1)

	rc.catchUp(term)

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

	rc.writeMu.Lock()
	res, err := rc.commitWithOplog(term, nil, func(_ *storage.Tx, ol *opLog) error {
		ol.Noop(bson.D{{Key: "msg", Value: "new primary"}})
		return nil
	})
	if err != nil {
		rc.writeMu.Unlock()
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
		rc.writeMu.Unlock()
		rc.persistConfig(cfg)
		return nil
	}
	rc.n.mu.Unlock()
	rc.writeMu.Unlock()
	return fmt.Errorf("lost primary role while draining")
}
