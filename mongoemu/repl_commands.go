package mongoemu

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// registerRepl adds the replSet* commands (spec §6). On a standalone they all answer
// NoReplicationEnabled, like mongod without --replSet.
func (n *Node) registerRepl(t commandTable) {
	admin := func(fn func(rc *replCoord, ctx context.Context, r *request) (bson.D, error), needConfig bool) *command {
		return &command{kind: kindAny, adminOnly: true, fn: func(ctx context.Context, r *request) (bson.D, error) {
			if n.repl == nil {
				return nil, mongoerr.New(mongoerr.NoReplicationEnabled, "not running with --replSet")
			}
			if needConfig {
				n.mu.Lock()
				noCfg := n.repl.cfg == nil
				n.mu.Unlock()
				if noCfg {
					return nil, mongoerr.New(mongoerr.NotYetInitialized, "no replset config has been received").
						With("info", "run rs.initiate(...) if not yet done for the set")
				}
			}
			return fn(n.repl, ctx, r)
		}}
	}
	t["replSetInitiate"] = admin((*replCoord).handleInitiate, false)
	t["replSetReconfig"] = admin((*replCoord).handleReconfig, false)
	t["replSetGetConfig"] = admin((*replCoord).handleGetConfig, true)
	t["replSetGetStatus"] = admin((*replCoord).handleGetStatus, false)
	t["replSetStepDown"] = admin((*replCoord).handleStepDown, true)
	t["replSetStepUp"] = admin((*replCoord).handleStepUp, true)
	t["replSetFreeze"] = admin((*replCoord).handleFreeze, true)
	t["replSetMaintenance"] = admin((*replCoord).handleMaintenance, true)
	t["replSetSyncFrom"] = admin((*replCoord).handleSyncFrom, true)
	t["replSetAbortPrimaryCatchUp"] = admin((*replCoord).handleAbortCatchUp, true)
	t["replSetGetRBID"] = admin((*replCoord).handleGetRBID, false)
	t["replSetHeartbeat"] = admin((*replCoord).handleHeartbeat, false)
	t["replSetRequestVotes"] = admin((*replCoord).handleRequestVotes, true)
	t["replSetUpdatePosition"] = admin((*replCoord).handleUpdatePosition, true)
}

func (rc *replCoord) handleGetConfig(_ context.Context, _ *request) (bson.D, error) {
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	return bson.D{{Key: "config", Value: rc.cfg.doc()}}, nil
}

func (rc *replCoord) handleGetRBID(_ context.Context, _ *request) (bson.D, error) {
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	return bson.D{{Key: "rbid", Value: rc.rbid}}, nil
}

// handleStepUp is replSetStepUp (spec §6.3): run for election now and answer once the election
// is decided, i.e. as soon as this node is PRIMARY, still in catch-up (stepUpIfEligible,
// replication_coordinator_impl_elect_v1.cpp).
func (rc *replCoord) handleStepUp(ctx context.Context, r *request) (bson.D, error) {
	skip, err := r.boolArg("skipDryRun")
	if err != nil {
		return nil, err
	}
	rc.n.mu.Lock()
	if rc.stateLocked() == statePrimary {
		rc.n.mu.Unlock()
		return bson.D{}, nil
	}
	rc.n.mu.Unlock()
	reason := reasonStepUp
	if skip {
		reason = reasonStepUpSkipDryRun
	}
	if err := rc.runElection(ctx, reason, skip); err != nil {
		rc.n.events.info("ELECTION", 21441, "replSetStepUp failed", "error", err.Error())
		return nil, mongoerr.New(mongoerr.CommandFailed, "Election failed.")
	}
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	switch {
	case rc.stateLocked() != statePrimary:
		return nil, mongoerr.New(mongoerr.CommandFailed, "Election failed.")
	case rc.leader == leaderSteppingDown:
		return nil, mongoerr.New(mongoerr.CommandFailed, "Election failed due to concurrent stepdown.")
	}
	return bson.D{}, nil
}

// handleFreeze is replSetFreeze (spec §6.2).
func (rc *replCoord) handleFreeze(_ context.Context, r *request) (bson.D, error) {
	secs, ok := numberAsInt64(r.firstValue())
	if !ok {
		return nil, mongoerr.New(mongoerr.TypeMismatch, "replSetFreeze requires a number of seconds")
	}
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if rc.stateLocked() == statePrimary || rc.running {
		state := "Primary"
		if rc.running {
			state = "Running-Election"
		}
		return nil, mongoerr.New(mongoerr.NotSecondary, "Cannot freeze node when primary or running for election. state: %s", state)
	}
	now := time.Now()
	switch {
	case secs == 0:
		rc.stepDownUntil = now
		if len(rc.cfg.members) == 1 {
			go func() { _ = rc.runElection(context.Background(), reasonSingleNode, true) }()
		}
		return bson.D{{Key: "info", Value: "unfreezing"}}, nil
	case secs == 1:
		rc.stepDownUntil = maxTime(rc.stepDownUntil, now.Add(time.Second))
		return bson.D{{Key: "warning", Value: "you really want to freeze for only 1 second?"}}, nil
	}
	rc.stepDownUntil = maxTime(rc.stepDownUntil, now.Add(time.Duration(secs)*time.Second))
	return bson.D{}, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// handleMaintenance is replSetMaintenance (spec §6.5).
func (rc *replCoord) handleMaintenance(_ context.Context, r *request) (bson.D, error) {
	on, err := r.boolArg("replSetMaintenance")
	if err != nil {
		return nil, err
	}
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if rc.stateLocked() == statePrimary {
		return nil, mongoerr.New(mongoerr.NotSecondary, "primaries can't modify maintenance mode")
	}
	if rc.running {
		return nil, mongoerr.New(mongoerr.NotSecondary, "currently running for election")
	}
	if !on && rc.maintenance == 0 {
		return nil, mongoerr.New(mongoerr.OperationFailed, "already out of maintenance mode")
	}
	old := rc.stateLocked()
	if on {
		rc.maintenance++
	} else {
		rc.maintenance--
	}
	if now := rc.stateLocked(); now != old {
		rc.logTransitionLocked(old, now)
	}
	rc.bumpLocked()
	return bson.D{}, nil
}

// handleSyncFrom is replSetSyncFrom (spec §6.4): a one-shot sync source override.
func (rc *replCoord) handleSyncFrom(_ context.Context, r *request) (bson.D, error) {
	target, ok := r.firstValue().StringValueOK()
	if !ok {
		return nil, mongoerr.New(mongoerr.TypeMismatch, "replSetSyncFrom requires a host:port string")
	}
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	switch {
	case rc.self < 0:
		return nil, mongoerr.New(mongoerr.NotSecondary, "Removed and uninitialized nodes do not sync")
	case rc.isArbiterLocked():
		return nil, mongoerr.New(mongoerr.NotSecondary, "arbiters don't sync")
	case rc.stateLocked() == statePrimary:
		return nil, mongoerr.New(mongoerr.NotSecondary, "primaries don't sync")
	}
	idx := rc.cfg.indexOfHost(target)
	if idx < 0 {
		return nil, mongoerr.New(mongoerr.NodeNotFound, "Could not find member \"%s\" in replica set", target)
	}
	if idx == rc.self {
		return nil, mongoerr.New(mongoerr.InvalidOptions, "I cannot sync from myself")
	}
	m := rc.cfg.members[idx]
	if m.arbiterOnly {
		return nil, mongoerr.New(mongoerr.InvalidOptions, "Cannot sync from \"%s\" because it is an arbiter", target)
	}
	if !rc.members[idx].up {
		return nil, mongoerr.New(mongoerr.HostUnreachable, "I cannot reach the requested member: %s", target)
	}
	d := bson.D{{Key: "syncFromRequested", Value: target}}
	if rc.syncSource != "" {
		d = append(d, bson.E{Key: "prevSyncTarget", Value: rc.syncSource})
	}
	if rc.members[idx].applied.ts.T+10 < rc.lastApplied.ts.T {
		d = append(d, bson.E{Key: "warning", Value: "requested member \"" + target + "\" is more than 10 seconds behind us"})
	}
	rc.syncFromRequest = target
	rc.signalLocked()
	return d, nil
}

// handleAbortCatchUp is replSetAbortPrimaryCatchUp (spec §6.8; repl_set_commands.cpp and
// abortCatchupIfNeeded): catch-up ends at once, counted under
// numCatchUpsFailedWithReplSetAbortPrimaryCatchUpCmd, and the primary enters drain mode.
func (rc *replCoord) handleAbortCatchUp(_ context.Context, _ *request) (bson.D, error) {
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	rc.n.events.info("REPL", 21583, "Received replSetAbortPrimaryCatchUp request")
	if rc.catchUpSt == nil {
		err := mongoerr.New(mongoerr.IllegalOperation, "The node is not in catch-up mode.")
		rc.n.events.info("REPL", 21584, "replSetAbortPrimaryCatchUp request failed", "error", err.Error())
		return nil, err
	}
	rc.concludeCatchUpLocked(catchUpFailedWithAbortCmd)
	return bson.D{}, nil
}

// handleUpdatePosition is replSetUpdatePosition (spec §7.4): progress reports from downstream.
func (rc *replCoord) handleUpdatePosition(_ context.Context, r *request) (bson.D, error) {
	arr, _ := r.cmd.Lookup("optimes").ArrayOK()
	vals, _ := arr.Values()
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if rc.self < 0 {
		return nil, mongoerr.New(mongoerr.NotPrimaryOrSecondary, "Received replSetUpdatePosition command but we are in state REMOVED")
	}
	now := time.Now()
	for _, v := range vals {
		d, ok := v.DocumentOK()
		if !ok {
			continue
		}
		id, _ := numberAsInt64(d.Lookup("memberId"))
		idx := rc.cfg.indexOfID(int(id))
		if idx < 0 {
			return nil, mongoerr.New(mongoerr.NodeNotFound, "Received replSetUpdatePosition for node with memberId %d which doesn't exist in our config", id)
		}
		if idx == rc.self {
			continue
		}
		m := &rc.members[idx]
		if ot, ok := opTimeFromValue(d.Lookup("appliedOpTime")); ok && m.applied.less(ot) {
			m.applied = ot
		}
		if ot, ok := opTimeFromValue(d.Lookup("durableOpTime")); ok && m.durable.less(ot) {
			m.durable = ot
		}
		m.lastUpdate, m.lastUpdateStale = now, false
	}
	if t, ok := numberAsInt64(r.cmd.Lookup("$replData", "term")); ok && t > rc.term {
		rc.updateTermLocked(t, "replSetUpdatePosition")
	}
	if rc.leader != leaderNone {
		rc.updateCommitPointLocked()
	}
	rc.signalLocked()
	return bson.D{}, nil
}
