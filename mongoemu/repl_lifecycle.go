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

// catchUp is the primary-elect's catch-up phase (spec §5.4 step 2): reach the newest optime
// seen among members, unless catchUpTimeoutMillis passes, it is aborted, or the term changes.
func (rc *replCoord) catchUp(term int64) {
	fresh := rc.freshRoundOpTimes()
	rc.n.mu.Lock()
	target := rc.lastApplied
	for _, ot := range fresh {
		if target.less(ot) {
			target = ot
		}
	}
	timeout := rc.cfg.settings.catchUpTimeout
	if target == rc.lastApplied || timeout == 0 || len(rc.cfg.members) == 1 {
		rc.electionStats.catchUpsAlready++
		rc.n.mu.Unlock()
		return
	}
	rc.electionStats.catchUps++
	rc.catchUpTarget = target
	abort := make(chan struct{})
	rc.catchUpAbort = abort
	rc.signalLocked()
	rc.n.mu.Unlock()
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		rc.n.mu.Lock()
		done := !rc.lastApplied.less(target) || rc.term != term || rc.leader == leaderNone
		if !rc.lastApplied.less(target) {
			rc.electionStats.catchUpsSucceeded++
		}
		ch := rc.stateChanged
		rc.n.mu.Unlock()
		if done {
			break
		}
		select {
		case <-ch:
		case <-abort:
			done = true
		case <-deadline:
			done = true
		case <-rc.stopCh:
			done = true
		case <-time.After(100 * time.Millisecond):
		}
		if done {
			break
		}
	}
	rc.n.mu.Lock()
	rc.catchUpTarget = opTime{}
	if rc.catchUpAbort == abort {
		rc.catchUpAbort = nil
	}
	rc.n.mu.Unlock()
}

// freshRoundOpTimes is the catch-up target's source: a fresh round of heartbeats to every other
// member (spec §5.4 step 2). Members that do not answer — a crashed former primary — do not
// count, so a dead node's stale optime can never hold the new primary in catch-up.
func (rc *replCoord) freshRoundOpTimes() []opTime {
	rc.n.mu.Lock()
	if rc.cfg == nil || rc.self < 0 {
		rc.n.mu.Unlock()
		return nil
	}
	cmd := bson.D{{Key: "replSetHeartbeat", Value: rc.cfg.name}, {Key: "configVersion", Value: rc.cfg.version},
		{Key: "configTerm", Value: rc.cfg.term}, {Key: "hbv", Value: int32(1)},
		{Key: "from", Value: rc.cfg.members[rc.self].host}, {Key: "fromId", Value: int32(rc.cfg.members[rc.self].id)},
		{Key: "term", Value: rc.term}, {Key: "$db", Value: "admin"}}
	var hosts []string
	for i, m := range rc.cfg.members {
		if i != rc.self && !m.arbiterOnly {
			hosts = append(hosts, m.host)
		}
	}
	timeout := min(2*time.Second, rc.cfg.settings.electionTimeout)
	rc.n.mu.Unlock()
	out := make(chan opTime, len(hosts))
	for _, h := range hosts {
		go func(host string) {
			reply, err := callOnce(context.Background(), host, cmd, timeout)
			if err != nil {
				out <- nullOpTime
				return
			}
			ot, ok := opTimeFromValue(reply.Lookup("opTime"))
			if !ok {
				ot = nullOpTime
			}
			out <- ot
		}(h)
	}
	// Wait for every answer, but once a majority of the set (counting us) has answered, give
	// the rest only a short grace: a hung member must not hold the new primary in catch-up
	// until its heartbeat times out.
	res := make([]opTime, 0, len(hosts))
	need := len(hosts)/2 + 1 - 1
	var grace <-chan time.Time
	for range hosts {
		select {
		case ot := <-out:
			res = append(res, ot)
		case <-grace:
			return res
		}
		if len(res) >= need && grace == nil {
			grace = time.After(250 * time.Millisecond)
		}
	}
	return res
}
