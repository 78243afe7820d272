package mongoemu

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// fassertOnLockTimeoutForStepUpDown: a stepdown that cannot take the replication state
// transition lock within this long terminates the process (failover-notes "sick primary").
const rstlTimeout = 15 * time.Second

// acquireRSTL takes writeMu (our RSTL) or gives up after d; a write stuck in storage holds it.
func (rc *replCoord) acquireRSTL(d time.Duration) bool {
	if rc.writeMu.TryLock() {
		return true
	}
	got := make(chan struct{})
	abandon := make(chan struct{})
	go func() {
		rc.writeMu.Lock()
		select {
		case got <- struct{}{}:
		case <-abandon:
			rc.writeMu.Unlock()
		}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-got:
		return true
	case <-t.C:
	case <-rc.stopCh:
	}
	close(abandon)
	return false
}

// stepDownUnconditionally leaves PRIMARY (higher term seen, lost majority, removed by reconfig).
func (rc *replCoord) stepDownUnconditionally(why string) {
	if !rc.acquireRSTL(rstlTimeout) {
		select {
		case <-rc.stopCh:
			return
		default:
		}
		rc.n.events.emit("F", "REPL", 5675600, "Time out exceeded waiting for RSTL, stepUp/stepDown is not possible thus calling abort() to allow cluster to progress",
			[]any{"lockRep", "RSTL", "reason", why})
		go rc.n.Stop(mongoerr.New(mongoerr.ExceededTimeLimit, "fatal: could not acquire the replication state transition lock to step down: %s", why))
		return
	}
	defer rc.writeMu.Unlock()
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if rc.leader == leaderNone {
		return
	}
	rc.leaveLeaderLocked("stepping down: " + why)
}

// leaveLeaderLocked turns a primary into a SECONDARY; callers hold writeMu and n.mu.
func (rc *replCoord) leaveLeaderLocked(why string) {
	old := rc.stateLocked()
	rc.leader = leaderNone
	if rc.primary == rc.self {
		rc.primary = -1
	}
	rc.candidate = nil
	rc.follower = stateSecondary
	rc.resetElectionTimerLocked()
	rc.logTransitionLocked(old, rc.stateLocked())
	rc.n.events.info("REPL", 21343, "Stepped down", "reason", why)
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
			rc.bumpLocked()
		}
		rc.n.mu.Unlock()
	}
	deadline := start.Add(catchUp)
	if !rc.acquireRSTL(rstlTimeout) {
		restore()
		return mongoerr.New(mongoerr.ExceededTimeLimit, "Could not acquire the RSTL for stepdown in time")
	}
	for {
		rc.n.mu.Lock()
		if rc.term != term || rc.leader != leaderSteppingDown {
			rc.n.mu.Unlock()
			rc.writeMu.Unlock()
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
			rc.writeMu.Unlock()
			if target != "" {
				go rc.electionHandoff(target)
			}
			return nil
		}
		if !now.Before(deadline) {
			rc.n.mu.Unlock()
			rc.writeMu.Unlock()
			restore()
			return mongoerr.New(mongoerr.ExceededTimeLimit, "No electable secondaries caught up as of %s. Please use the replSetStepDown command with the argument {force: true} to force node to step down.", now.UTC().Format(time.RFC3339))
		}
		ch := rc.stateChanged
		rc.n.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			rc.writeMu.Unlock()
			restore()
			return ctx.Err()
		}
	}
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
