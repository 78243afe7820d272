package mongoemu

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/storage"
)

// A restarted member with data goes STARTUP -> STARTUP2 -> RECOVERING -> SECONDARY, and each
// step has its own gate in mongod 7.0 (replication_coordinator_impl.cpp):
//   - STARTUP: startup() has loaded the last vote, the rollback ID (bumped after an unclean
//     shutdown, log 501401) and run replication recovery before the listener opens; the config is
//     installed by _finishLoadLocalConfig, a callback that needs "the server's networking layer
//     up and running and accepting connections" (isSelf). Until then hello shows no config and
//     heartbeats get NotYetInitialized;
//   - STARTUP2: the config is installed (TopologyCoordinator's follower mode starts as STARTUP2);
//   - RECOVERING: _startDataReplication, for a node that needs no initial sync, sets RECOVERING
//     and starts steady-state replication;
//   - SECONDARY: the oplog applier, at the top of each loop (after the rsSyncApplyStop pause),
//     calls finishRecoveryIfEligible: RECOVERING and lastApplied >= minValid.

// logUncleanShutdown is the storage layer's warning when mongod.lock was not empty
// (storage_engine_init.cpp, id 22271).
func (n *Node) logUncleanShutdown() {
	if n.store.LastShutdownUnclean() {
		n.events.warn("STORAGE", 22271, "Detected unclean shutdown - Lock file is not empty",
			"lockFile", filepath.Join(n.store.Path(), storage.LockFileName))
	}
}

// startupSequence is _finishLoadLocalConfig then _startDataReplication, run once the listeners
// accept connections.
func (rc *replCoord) startupSequence() {
	defer rc.wg.Done()
	if !rc.waitSelfReachable() {
		return
	}
	rc.n.mu.Lock()
	if cfg := rc.pendingCfg; cfg != nil {
		rc.pendingCfg = nil
		rc.installConfigLocked(cfg)
	}
	if rc.cfg == nil || rc.self < 0 {
		rc.n.mu.Unlock()
		return
	}
	rc.resetElectionTimerLocked()
	if rc.isArbiterLocked() {
		rc.follower = stateSecondary
		rc.bumpLocked()
		rc.n.mu.Unlock()
		return
	}
	rc.setFollowerLocked(stateStartup2)
	rc.n.mu.Unlock()

	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if rc.follower != stateStartup2 || rc.lastApplied.isNull() || rc.initialSyncFlagged() {
		return // initial sync (syncLoop) takes it from STARTUP2
	}
	rc.setFollowerLocked(stateRecovering)
}

// startingUpLocked: a stored config is loaded but not installed yet (mongod's
// kConfigStartingUp). Heartbeats are refused meanwhile (processHeartbeat: NotYetInitialized).
func (rc *replCoord) startingUpLocked() bool { return rc.pendingCfg != nil }

// waitSelfReachable waits until this node answers a hello on its own address: the networking
// layer is up (isSelf). It returns false if the node stops first.
func (rc *replCoord) waitSelfReachable() bool {
	cmd := bson.D{{Key: "hello", Value: 1}, {Key: "$db", Value: "admin"}}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := rc.callOnce(ctx, rc.n.host, cmd, 2*time.Second)
		cancel()
		if err == nil {
			return true
		}
		select {
		case <-rc.stopCh:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// recoveryLoop is the top of mongod's oplog applier loop (oplog_applier_impl.cpp
// OplogApplierImpl::_run): pause while rsSyncApplyStop is on, then finishRecoveryIfEligible,
// at least once a second. The applier of a running fetch (repl_applier.go) does the same
// after each batch.
func (rc *replCoord) recoveryLoop() {
	defer rc.wg.Done()
	logged := false
	for {
		rc.n.mu.Lock()
		wait := rc.stateChanged
		arbiter := rc.isArbiterLocked()
		rc.n.mu.Unlock()
		_, stopped := rc.n.fail.peek(fpRsSyncApplyStop)
		switch {
		case arbiter: // arbiters run no applier
		case stopped:
			if !logged && rc.applier.Load() == nil {
				rc.n.events.info("REPL", 21229, "Oplog Applier - rsSyncApplyStop fail point enabled. Blocking until fail point is disabled")
				logged = true
			}
		default:
			logged = false
			rc.n.mu.Lock()
			rc.maybeLeaveRecoveringLocked()
			rc.n.mu.Unlock()
		}
		wake := time.Second
		if stopped {
			wake = 10 * time.Millisecond // pauseWhileSet polls
		}
		rc.sleepOrChange(wait, wake)
		select {
		case <-rc.stopCh:
			return
		default:
		}
	}
}

// startupFailPoints applies --setParameter failpoint.<name>=<json> (mongod: a fail point set at
// startup, e.g. failpoint.rsSyncApplyStop={"mode":"alwaysOn"}, how test suites hold a restarted
// member in RECOVERING). The other parameters are left to newParameters.
func (f *failPoints) startupFailPoints(params map[string]string) error {
	for name, raw := range params {
		fp, ok := strings.CutPrefix(name, "failpoint.")
		if !ok {
			continue
		}
		var doc bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(raw), false, &doc); err != nil {
			return fmt.Errorf("--setParameter %s: %w", name, err)
		}
		data, _ := doc.Lookup("data").DocumentOK()
		if _, err := f.configure(fp, doc.Lookup("mode"), data); err != nil {
			return fmt.Errorf("--setParameter %s: %w", name, err)
		}
	}
	return nil
}
