package mongoemu

import (
	"errors"
	"time"
)

// errTooStale and errRollback end a fetch: the source no longer has our last entry in its oplog
// (we fell off it), or it has a different history (we diverged) (spec §7.3).
var (
	errTooStale   = errors.New("too stale to sync from source")
	errRollback   = errors.New("our oplog diverged from the sync source")
	errStopFetch  = errors.New("stop fetching")
	errSourceDown = errors.New("sync source is behind us or unavailable")
)

const denylistFor = time.Minute

// syncLoop is mongod's bgsync: pick a sync source, tail its oplog, apply; run initial sync,
// rollback or the too-stale procedure when fetching says so (spec §7.2-§7.7).
func (rc *replCoord) syncLoop() {
	defer rc.wg.Done()
	denylist := map[string]time.Time{}
	for {
		select {
		case <-rc.stopCh:
			return
		default:
		}
		rc.n.mu.Lock()
		state := rc.stateLocked()
		wait := rc.stateChanged
		active := rc.cfg != nil && rc.self >= 0 && !rc.isArbiterLocked() &&
			(state == stateSecondary || state == stateRecovering || state == stateStartup2 ||
				(state == statePrimary && rc.leader == leaderCatchUp))
		// A member with data passes through STARTUP2 at startup without needing initial sync.
		needInitial := state == stateStartup2 && (rc.lastApplied.isNull() || rc.initialSyncFlagged())
		rc.n.mu.Unlock()
		if !active {
			rc.sleepOrChange(wait, time.Second)
			continue
		}
		if needInitial {
			rc.runInitialSync()
			continue
		}
		if stopProducer(rc) {
			// bgsync.cpp BackgroundSync::_produce: log (jstests wait for this line) and retry
			// after a sleep; no sync source is chosen while the fail point is on.
			rc.n.events.info("REPL", 21079, "bgsync - stopReplProducer fail point enabled. Blocking until fail point is disabled.")
			rc.sleepOrChange(nil, time.Second)
			continue
		}
		source, allStale := rc.chooseSyncSource(denylist)
		if source == "" {
			rc.setSyncSource("", "Could not find member to sync from")
			if allStale {
				rc.enterTooStale()
			}
			rc.sleepOrChange(wait, time.Second)
			continue
		}
		rc.setSyncSource(source, "")
		err := rc.fetchFrom(source)
		switch {
		case errors.Is(err, errTooStale):
			rc.n.events.warn("REPL", 21799, "We are too stale to use source as a sync source. Denylisting this sync source",
				"syncSource", source, "denylistDuration", denylistFor.String())
			denylist[source] = time.Now().Add(denylistFor)
		case errors.Is(err, errRollback):
			rc.runRollback(source)
		case err != nil && !errors.Is(err, errStopFetch):
			rc.n.events.info("REPL", 21274, "Error returned from oplog query; choosing a new sync source", "error", err.Error(), "syncSource", source)
			rc.sleepOrChange(wait, 200*time.Millisecond)
		}
		rc.setSyncSource("", "")
	}
}

func (rc *replCoord) sleepOrChange(ch <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-rc.stopCh:
	}
}

func (rc *replCoord) setSyncSource(host, info string) {
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if rc.syncSource != host {
		if host != "" {
			rc.n.events.info("REPL", 21088, "Changed sync source", "newSyncSource", host)
			info = "syncing from: " + host
		}
		rc.syncSource = host
	}
	if info != "" || host == "" {
		rc.infoMessage = info
	}
}

// chooseSyncSource follows spec §7.2, simplified: a pending replSetSyncFrom target; during
// catch-up the freshest member; with chaining disallowed the primary; otherwise the closest
// member ahead of us (or the primary when we are caught up), preferring the primary on ties. allStale reports that the only
// candidates left were denylisted as too stale.
func (rc *replCoord) chooseSyncSource(denylist map[string]time.Time) (source string, allStale bool) {
	now := time.Now()
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if t := rc.syncFromRequest; t != "" {
		rc.syncFromRequest = ""
		return t, false
	}
	best, bestPing, primary := -1, int64(0), -1
	stale := 0
	for i, m := range rc.cfg.members {
		md := rc.members[i]
		if i == rc.self || m.arbiterOnly || !md.up || (md.state != statePrimary && md.state != stateSecondary) {
			continue
		}
		if !m.buildIndexes && rc.selfConfig().buildIndexes {
			continue
		}
		if rc.leader == leaderCatchUp {
			if best < 0 || rc.members[best].applied.less(md.applied) {
				best = i
			}
			continue
		}
		// A source must be ahead of us; a caught-up member may tail the primary, but never
		// another secondary that is only as fresh (that is how sync-source cycles form).
		if md.applied.less(rc.lastApplied) || (md.applied == rc.lastApplied && md.state != statePrimary) {
			continue
		}
		if md.state == statePrimary && md.leaderTerm < rc.term && rc.primary >= 0 && rc.primary != i {
			continue // a deposed primary (see shouldStopFetching)
		}
		if until, ok := denylist[m.host]; ok && now.Before(until) {
			stale++
			continue
		}
		if !rc.cfg.settings.chainingAllowed && md.state != statePrimary {
			continue
		}
		if m.hidden && rc.selfConfig().isVoter() {
			continue
		}
		if md.state == statePrimary {
			primary = i
		}
		if best < 0 || md.nearPing() < bestPing {
			best, bestPing = i, md.nearPing()
		}
	}
	if best < 0 {
		return "", stale > 0
	}
	// Another member is only "closer" than the primary when it is changeSyncSourceThresholdMillis
	// (5 ms) closer (spec §7.2): on a LAN or loopback every ping ties, and chaining through a
	// secondary would make majority commit depend on that secondary's own link to the primary.
	if primary >= 0 && rc.members[primary].nearPing()-bestPing < changeSyncSourceThresholdMillis {
		best = primary
	}
	return rc.cfg.members[best].host, false
}

// changeSyncSourceThresholdMillis is mongod's parameter of that name (spec §6.13).
const changeSyncSourceThresholdMillis = 5

// enterTooStale is bgsync's "too stale to catch up -- entering maintenance mode" (spec §7.5).
func (rc *replCoord) enterTooStale() {
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if rc.tooStale {
		return
	}
	rc.n.events.errorf("REPL", 21800, "too stale to catch up -- entering maintenance mode",
		"ourLastOpTime", fmtOpTime(rc.lastApplied),
		"see", "http://dochub.mongodb.org/core/resyncingaverystalereplicasetmember")
	old := rc.stateLocked()
	rc.tooStale = true
	rc.maintenance++
	if now := rc.stateLocked(); now != old {
		rc.logTransitionLocked(old, now)
	}
	rc.bumpLocked()
}

// leaveTooStale: a source has our last entry again ("No longer too stale").
func (rc *replCoord) leaveTooStaleLocked(source string) {
	if !rc.tooStale {
		return
	}
	rc.n.events.info("REPL", 21801, "No longer too stale. Able to sync from source", "syncSource", source)
	old := rc.stateLocked()
	rc.tooStale = false
	if rc.maintenance > 0 {
		rc.maintenance--
	}
	if now := rc.stateLocked(); now != old {
		rc.logTransitionLocked(old, now)
	}
	rc.bumpLocked()
}
