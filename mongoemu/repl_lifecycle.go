package mongoemu

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/storage"
)

// start launches the background loops: the startup sequence (repl_startup.go), heartbeats, the
// election timer, oplog sync, the applier's recovery check, and the periodic no-op writer.
func (rc *replCoord) start() {
	rc.wg.Add(6)
	go rc.startupSequence()
	go rc.recoveryLoop()
	go rc.heartbeatLoop()
	go rc.electionLoop()
	go rc.syncLoop()
	go rc.noopWriterLoop()
}

func (rc *replCoord) stop() {
	close(rc.stopCh) // loops that never started simply have nothing to wait for
	rc.n.mu.Lock()
	rc.signalLocked()
	rc.n.mu.Unlock()
	rc.hb.closeAll()
	rc.up.closeAll()
	rc.wg.Wait()
}

// startMemberLocked sets the follower state once we become a member of a config by heartbeat or
// reconfig: RECOVERING with data (then SECONDARY from recoveryLoop), initial sync (STARTUP2)
// without (spec §7.8). A restart goes through startupSequence instead.
func (rc *replCoord) startMemberLocked() {
	rc.resetElectionTimerLocked()
	if rc.isArbiterLocked() {
		rc.follower = stateSecondary
		rc.bumpLocked()
		return
	}
	if rc.lastApplied.isNull() || rc.initialSyncFlagged() {
		rc.setFollowerLocked(stateStartup2)
		return
	}
	rc.setFollowerLocked(stateStartup2)
	rc.setFollowerLocked(stateRecovering) // SECONDARY comes from recoveryLoop (repl_startup.go)
}

func (rc *replCoord) initialSyncFlagged() bool {
	_, ok, _ := rc.n.store.GetMeta(metaInitialSync)
	return ok
}

// noopWriterLoop writes {msg: "periodic noop"} on an idle primary every periodicNoopIntervalSecs
// so optimes keep moving without user writes (spec §5.4).
func (rc *replCoord) noopWriterLoop() {
	defer rc.wg.Done()
	interval := rc.n.params.duration("periodicNoopIntervalSecs", time.Second)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-rc.stopCh:
			return
		case <-t.C:
		}
		if !rc.n.params.boolValue("writePeriodicNoops") {
			continue
		}
		rc.n.mu.Lock()
		idle := rc.leader == leaderWritable && time.Since(rc.lastAppliedWall) >= interval
		rc.n.mu.Unlock()
		if idle {
			_, _ = rc.runPrimaryWrite(context.Background(), nil, func(_ *storage.Tx, ol *opLog) error {
				ol.Noop(bson.D{{Key: "msg", Value: "periodic noop"}})
				return nil
			})
		}
	}
}
