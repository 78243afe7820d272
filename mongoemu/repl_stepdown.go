package mongoemu

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// stepDownUnconditionally leaves PRIMARY (higher term seen, lost majority, removed by reconfig):
// mongod's _stepDownFinish takes the RSTL in X with no deadline of its own, so only the
// fassertOnLockTimeoutForStepUpDown cap ends a wait that cannot succeed: the node aborts
// (repl_rstl.go).
func (rc *replCoord) stepDownUnconditionally(why string) {
	rstl, err := rc.acquireRSTLForTransition(context.Background(), transitionStepDown, time.Time{}, nil)
	if err != nil {
		return // stopped, or aborting
	}
	defer rstl.unlock()
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if rc.leader == leaderNone {
		return
	}
	rc.leaveLeaderLocked("stepping down: " + why)
}

// leaveLeaderLocked turns a primary into a SECONDARY; callers hold the RSTL in X and n.mu.
func (rc *replCoord) leaveLeaderLocked(why string) {
	old := rc.stateLocked()
	rc.leader = leaderNone
	rc.stepDownLocked = false
	if rc.primary == rc.self {
		rc.primary = -1
	}
	rc.candidate = nil
	rc.follower = stateSecondary
	rc.resetElectionTimerLocked()
	rc.logTransitionLocked(old, rc.stateLocked())
	_ = why // the transition line says what happened; the caller's own log line says why
	rc.bumpLocked()
}

// handleStepDown is replSetStepDown (spec §6.1).
func (rc *replCoord) handleStepDown(ctx context.Context, r *request) (bson.D, error) {
	start := time.Now()
	secs := int64(60)
	if v := r.firstValue(); v.IsNumber() {
		n, _ := numberAsInt64(v)
		if n < 0 {
			return nil, mongoerr.New(mongoerr.BadValue, "stepdown period must be a positive integer")
		}
		if n > 0 {
			secs = n
		}
	}
	force, err := r.boolArg("force")
	if err != nil {
		return nil, err
	}
	catchUp := int64(10)
	if force {
		catchUp = 0
	}
	if v, ok, err := r.intArg("secondaryCatchUpPeriodSecs"); err != nil {
		return nil, err
	} else if ok {
		if v < 0 {
			return nil, mongoerr.New(mongoerr.BadValue, "secondaryCatchUpPeriodSecs period must be a positive or absent")
		}
		catchUp = v
	}
	if secs < catchUp {
		return nil, mongoerr.New(mongoerr.BadValue, "stepdown period must be longer than secondaryCatchUpPeriodSecs")
	}
	if err := rc.stepDown(ctx, start, time.Duration(secs)*time.Second, time.Duration(catchUp)*time.Second, force); err != nil {
		return nil, err
	}
	return bson.D{}, nil
}

// stepDownForShutdown is the stepdown a primary attempts before shutting down (spec §6.9):
// wait up to timeout for an electable caught-up secondary. A non-primary has nothing to do.
func (rc *replCoord) stepDownForShutdown(ctx context.Context, timeout time.Duration) error {
	rc.n.mu.Lock()
	primary := rc.stateLocked() == statePrimary
	rc.n.mu.Unlock()
	if !primary {
		return nil
	}
	return rc.stepDown(ctx, time.Now(), timeout+time.Second, timeout, false)
}

// stepDown is the conditional (or forced) stepdown of spec §6.1 and §5.5.
func (rc *replCoord) stepDown(ctx context.Context, start time.Time, stepDownFor, catchUp time.Duration, force bool) error {
	rc.n.mu.Lock()
	if rc.stateLocked() != statePrimary {
		rc.n.mu.Unlock()
		return mongoerr.New(mongoerr.NotWritablePrimary, "not primary so can't step down")
	}
	if rc.leader == leaderSteppingDown {
		rc.n.mu.Unlock()
		return mongoerr.New(mongoerr.ConflictingOperationInProgress, "This node is already in the process of stepping down")
	}
	prevMode := rc.leader
	rc.leader = leaderSteppingDown // hello stops saying writable at once (spec §5.5)
	term := rc.term
	rc.bumpLocked()
	rc.n.mu.Unlock()

	restore := func() {
		rc.n.mu.Lock()
		if rc.leader == leaderSteppingDown && rc.term == term {
			rc.leader = prevMode
			rc.stepDownLocked = false
			rc.bumpLocked()
		}
		rc.n.mu.Unlock()
	}
	deadline := start.Add(catchUp)
	// With force the catch-up period defaults to zero, so mongod waits for the RSTL until the end
	// of the stepdown period instead (replication_coordinator_impl.cpp stepDown).
	rstlDeadline := deadline
	if force {
		rstlDeadline = start.Add(stepDownFor)
	}
	rstl, err := rc.acquireRSTLForTransition(ctx, transitionStepDown, rstlDeadline, opFrom(ctx))
	if err != nil {
		restore()
		return err
	}
	defer func() { rstl.unlock() }()
	rc.n.mu.Lock()
	if rc.leader == leaderSteppingDown && rc.term == term {
		rc.stepDownLocked = true // writes are refused at dispatch from now on
	}
	rc.n.mu.Unlock()
	for {
		rc.n.mu.Lock()
		if rc.term != term || rc.leader != leaderSteppingDown {
			rc.n.mu.Unlock()
			return mongoerr.New(mongoerr.PrimarySteppedDown, "While waiting for secondaries to catch up before stepping down, this node decided to step down for other reasons")
		}
		safe := rc.safeToStepDownLocked()
		now := time.Now()
		if safe || (force && !now.Before(deadline)) {
			rc.stepDownUntil = start.Add(stepDownFor)
			rc.leaveLeaderLocked("replSetStepDown command")
			target := ""
			if !force && rc.n.params.boolValue("enableElectionHandoff") {
				target = rc.handoffTargetLocked()
			}
			rc.n.mu.Unlock()
			if target != "" {
				go rc.electionHandoff(target)
			}
			return nil
		}
		if !now.Before(deadline) {
			rc.n.mu.Unlock()
			restore()
			return mongoerr.New(mongoerr.ExceededTimeLimit, "No electable secondaries caught up as of %s. Please use the replSetStepDown command with the argument {force: true} to force node to step down.", now.UTC().Format(time.RFC3339))
		}
		ch := rc.stateChanged
		rc.n.mu.Unlock()
		// mongod releases the RSTL while it waits for a secondary to catch up (operations queued
		// behind it now find that writes are refused), then takes it again with the kill-op step,
		// with no deadline and uninterruptibly (stepDown: arsd.rstlRelease / rstlReacquire).
		rstl.unlock()
		// Woken by member progress (heartbeats, replSetUpdatePosition) or the deadline, as
		// mongod's waiter on _replicationWaiterList.
		wake := time.NewTimer(time.Until(deadline))
		select {
		case <-ch:
		case <-wake.C:
		case <-ctx.Done():
			wake.Stop()
			restore()
			return ctx.Err()
		}
		wake.Stop()
		if rstl, err = rc.reacquireRSTL(transitionStepDown, opFrom(ctx)); err != nil {
			restore()
			return err
		}
	}
}

// reacquireRSTL takes the RSTL in X again after a stepdown released it, killing conflicting
// operations meanwhile; only the node stopping ends the wait.
func (rc *replCoord) reacquireRSTL(kind string, self *opCtx) (*lockRequest, error) {
	stop := rc.startKillOpThread(kind, self)
	defer stop()
	req := rc.n.locks.rstl.enqueue(modeX, true)
	ctx, cancel := rc.stopContext()
	defer cancel()
	if err := req.wait(ctx, time.Time{}); err != nil {
		return nil, err
	}
	return req, nil
}

// safeToStepDownLocked: a write majority has our lastApplied and one of them is an electable
// secondary (spec §6.1 isSafeToStepDown).
func (rc *replCoord) safeToStepDownLocked() bool {
	caught, electable := 0, false
	for i, m := range rc.cfg.members {
		if !m.isVoter() || m.arbiterOnly {
			continue
		}
		if i == rc.self {
			caught++
			continue
		}
		md := rc.members[i]
		if md.up && !md.applied.less(rc.lastApplied) {
			caught++
			if md.state == stateSecondary && m.isElectable() && md.electable {
				electable = true
			}
		}
	}
	return caught >= rc.cfg.writeMajority() && electable
}

// handoffTargetLocked picks the caught-up electable secondary with the highest priority, ties
// to the lowest index (spec §5.2 item 4).
func (rc *replCoord) handoffTargetLocked() string {
	best := -1
	for i, m := range rc.cfg.members {
		md := rc.members[i]
		if i == rc.self || !m.isElectable() || !md.electable || !md.up || md.state != stateSecondary || md.applied.less(rc.lastApplied) {
			continue
		}
		if best < 0 || m.priority > rc.cfg.members[best].priority {
			best = i
		}
	}
	return memberName(rc.cfg, best)
}

func (rc *replCoord) electionHandoff(host string) {
	rc.n.events.info("REPL", 21347, "Starting an election for a priority takeover / handoff", "target", host)
	_, _ = rc.callOnce(context.Background(), host, bson.D{{Key: "replSetStepUp", Value: int32(1)},
		{Key: "skipDryRun", Value: true}, {Key: "$db", Value: "admin"}}, 10*time.Second)
}
