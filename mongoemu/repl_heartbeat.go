package mongoemu

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/wire"
)

// kMaxHeartbeatRetries: a failed heartbeat is retried at once this many times before the target
// is marked DOWN, unless heartbeatTimeoutSecs ran out first (spec §5.1).
const maxHeartbeatRetries = 2

// hbTarget is the sender-side schedule of heartbeats to one member, with mongod's PingStats
// (topology_coordinator.cpp): a heartbeat is "trying" from its start until it succeeds or has
// failed kMaxHeartbeatRetries+1 times; retries and a restarted request keep the start, so each
// request's timeout is heartbeatTimeoutSecs minus the time already elapsed since it
// (prepareHeartbeatRequestV1).
type hbTarget struct {
	next     time.Time
	inFlight bool
	trying   bool
	start    time.Time // when the current (possibly retried) heartbeat began
	failures int
	epoch    uint64             // rc.hbEpoch when the request in flight was sent
	cancel   context.CancelFunc // cancels the request in flight (heartbeat restart)
}

// heartbeatLoop sends replSetHeartbeat to every other member every heartbeatIntervalMillis.
func (rc *replCoord) heartbeatLoop() {
	defer rc.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		kicked := ""
		select {
		case <-rc.stopCh:
			return
		case <-tick.C:
		case kicked = <-rc.hbKick:
		}
		now := time.Now()
		// Target fields are shared with the sendHeartbeat goroutines; both sides hold n.mu.
		rc.n.mu.Lock()
		targets := rc.hbTargets
		if kicked != "" {
			for h, t := range targets {
				if kicked == "*" || kicked == h {
					t.next = now
				}
			}
		}
		// A REMOVED node (not in its config) heartbeats the config's members too: their replies
		// carry a newer config that lists it again, which is how a re-added member comes back
		// (replication_coordinator_impl.cpp _startHeartbeats_inlock schedules every member but
		// self, with _selfIndex -1 when removed).
		if rc.cfg == nil {
			rc.n.mu.Unlock()
			continue
		}
		live := map[string]bool{}
		for i, m := range rc.cfg.members {
			if i == rc.self {
				continue
			}
			live[m.host] = true
			t := targets[m.host]
			if t == nil {
				t = &hbTarget{next: now}
				targets[m.host] = t
			}
			if t.inFlight || now.Before(t.next) {
				continue
			}
			if !t.trying || now.Sub(t.start) >= rc.cfg.settings.heartbeatTimeout {
				t.trying, t.start, t.failures = true, now, 0
			}
			ctx, cancel := context.WithCancel(context.Background())
			t.inFlight, t.epoch, t.cancel = true, rc.hbEpoch, cancel
			go rc.sendHeartbeat(ctx, cancel, m.host, t)
		}
		for h := range targets {
			if !live[h] {
				delete(targets, h)
			}
		}
		rc.n.mu.Unlock()
	}
}

// sendHeartbeat runs one heartbeat and schedules the next. Target fields are only touched by
// the loop and this goroutine while inFlight, so they need no lock beyond n.mu for the update.
func (rc *replCoord) sendHeartbeat(ctx context.Context, cancel context.CancelFunc, host string, t *hbTarget) {
	rc.n.mu.Lock()
	if rc.cfg == nil {
		t.inFlight = false
		cancel()
		rc.n.mu.Unlock()
		return
	}
	s := rc.cfg.settings
	start, epoch := t.start, t.epoch
	// Removed, mongod sends no sender host (an empty HostAndPort) and fromId -1
	// (replication_coordinator_impl_heartbeat.cpp _doMemberHeartbeat).
	from, fromID := "", int32(-1)
	if rc.self >= 0 {
		from, fromID = rc.cfg.members[rc.self].host, int32(rc.cfg.members[rc.self].id)
	}
	cmd := bson.D{{Key: "replSetHeartbeat", Value: rc.cfg.name}, {Key: "configVersion", Value: rc.cfg.version},
		{Key: "configTerm", Value: rc.cfg.term}, {Key: "hbv", Value: int32(1)},
		{Key: "from", Value: from}, {Key: "fromId", Value: fromID},
		{Key: "term", Value: rc.term}, {Key: "primaryId", Value: int32(memberIDOf(rc.cfg, rc.primary))},
		{Key: "$db", Value: "admin"}}
	rc.n.mu.Unlock()
	timeout := s.heartbeatTimeout - time.Since(start)
	if timeout < 100*time.Millisecond {
		timeout = 100 * time.Millisecond
	}
	sent := time.Now()
	go func() {
		select {
		case <-rc.stopCh:
			cancel()
		case <-ctx.Done():
		}
	}()
	reply, err := rc.hb.call(ctx, host, cmd, timeout)
	rtt := time.Since(sent)
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	cancel()
	t.inFlight = false
	if rc.cfg == nil {
		return
	}
	if epoch != rc.hbEpoch {
		// Sent before a heartbeat restart, which cancelled it: its answer is not "since the
		// restart" and is dropped, as mongod drops a cancelled heartbeat's callback
		// (_handleHeartbeatResponse). The target stays trying, so the new request keeps the
		// start and only gets the rest of heartbeatTimeoutSecs.
		t.next = time.Now()
		return
	}
	idx := rc.cfg.indexOfHost(host)
	if err != nil {
		t.failures++
		if t.failures > maxHeartbeatRetries {
			t.trying = false // PingStats FAILED
		}
		down := !t.trying || time.Since(t.start) >= s.heartbeatTimeout
		if idx >= 0 {
			rc.noteHeartbeatFailureLocked(idx, host, err, down)
		}
		if !down {
			t.next = time.Now() // retry at once
		} else {
			t.trying = false
			t.next = time.Now().Add(rc.heartbeatPeriodLocked())
		}
		return
	}
	t.trying, t.failures = false, 0
	t.next = sent.Add(rc.heartbeatPeriodLocked())
	if idx >= 0 {
		rc.processHeartbeatReplyLocked(idx, reply, rtt)
	}
}

// heartbeatPeriodLocked: members without a sync source heartbeat faster (spec §5.1).
func (rc *replCoord) heartbeatPeriodLocked() time.Duration {
	s := rc.cfg.settings
	if rc.isArbiterLocked() {
		return min(s.electionTimeout/2, s.heartbeatInterval)
	}
	if rc.leader == leaderNone && rc.syncSource == "" {
		return min(s.electionTimeout/2, s.heartbeatInterval/4)
	}
	return s.heartbeatInterval
}

func (rc *replCoord) noteHeartbeatFailureLocked(idx int, host string, err error, down bool) {
	m := &rc.members[idx]
	m.message = heartbeatErrorMessage(host, err)
	if down {
		// setDownValues: a verdict for catch-up (member_data.cpp).
		m.updatedSinceRestart = true
		defer rc.signalLocked()
	}
	if !down || !m.up && m.contacted {
		if down && !m.contacted {
			m.contacted = true
			m.state = stateDown
		}
		return
	}
	wasUp := m.up
	m.up, m.contacted, m.state, m.upSince = false, true, stateDown, time.Time{}
	if wasUp {
		rc.n.events.info("REPL", 21215, "Member is in new state", "hostAndPort", host, "newState", "(not reachable/healthy)")
	}
	if rc.primary == idx && rc.leader == leaderNone {
		rc.primary = -1
		rc.bumpLocked()
	}
}

func heartbeatErrorMessage(host string, err error) string {
	var ce *wire.CommandError
	if errors.As(err, &ce) {
		return ce.Msg
	}
	return "Error connecting to " + host + " :: caused by :: " + err.Error()
}

// processHeartbeatReplyLocked folds a heartbeat reply into our view of the member (spec §5.1).
func (rc *replCoord) processHeartbeatReplyLocked(idx int, reply bson.Raw, rtt time.Duration) {
	now := time.Now()
	m := &rc.members[idx]
	host := rc.cfg.members[idx].host
	st, _ := numberAsInt64(reply.Lookup("state"))
	newState := memberState(st)
	if !m.up {
		m.upSince = now
	}
	if m.state != newState || !m.up {
		rc.n.events.info("REPL", 21215, "Member is in new state", "hostAndPort", host, "newState", newState.String())
	}
	m.contacted, m.up, m.state, m.message = true, true, newState, ""
	m.lastHeartbeat, m.lastUpdate = now, now
	m.lastUpdateStale, m.updatedSinceRestart = false, true // setUpValues (member_data.cpp)
	// pingMs is an EWMA of round trips (spec §3.3). A round trip longer than the heartbeat
	// interval measured a stalled process (ours was SIGSTOPped, or the peer was), not the
	// network; folding it in would make a healthy primary look seconds away for a minute and
	// push sync-source choice onto a secondary.
	if rtt <= rc.cfg.settings.heartbeatInterval {
		m.notePing(rtt.Milliseconds())
	}
	if ot, ok := opTimeFromValue(reply.Lookup("opTime")); ok {
		m.applied = ot
		rc.cancelCatchUpTakeoverIfCaughtUpLocked(ot)
	}
	if ot, ok := opTimeFromValue(reply.Lookup("durableOpTime")); ok {
		m.durable = ot
	}
	if w, ok := reply.Lookup("wallTime").TimeOK(); ok {
		m.appliedWall = w
	}
	if w, ok := reply.Lookup("durableWallTime").TimeOK(); ok {
		m.durableWall = w
	}
	m.configVersion, _ = numberAsInt64(reply.Lookup("v"))
	m.configTerm, _ = numberAsInt64(reply.Lookup("configTerm"))
	m.syncSource, _ = reply.Lookup("syncingTo").StringValueOK()
	m.electable, _ = reply.Lookup("electable").BooleanOK()
	if t, i, ok := reply.Lookup("electionTime").TimestampOK(); ok {
		m.electionTime = bson.Timestamp{T: t, I: i}
	}
	term, _ := numberAsInt64(reply.Lookup("term"))
	m.term = term
	// A primary that learned of a newer term is stepping down but may still say PRIMARY: what
	// makes it the current primary is the term it won (its electionId), not its current term.
	m.leaderTerm = -1
	if lt, ok := numberAsInt64(reply.Lookup("electionTerm")); ok {
		m.leaderTerm = lt
	} else if newState == statePrimary {
		m.leaderTerm = term
	}
	if term > rc.term {
		rc.updateTermLocked(term, "heartbeat from "+host)
	}
	if cfgDoc, ok := reply.Lookup("config").DocumentOK(); ok {
		rc.maybeInstallHeartbeatConfigLocked(cfgDoc)
		if rc.cfg == nil || idx >= len(rc.members) || rc.cfg.members[idx].host != host {
			return
		}
		m = &rc.members[idx]
	}
	if newState == statePrimary && m.leaderTerm == rc.term {
		if rc.leader != leaderNone && idx != rc.self {
			// Two primaries in one term cannot happen in pv1; a same-term report is stale.
		} else if rc.primary != idx {
			rc.primary = idx
			rc.bumpLocked()
		}
		rc.resetElectionTimerLocked()
		rc.maybeScheduleTakeoverLocked(idx)
	} else if rc.primary == idx && (newState != statePrimary || m.leaderTerm < rc.term) {
		rc.primary = -1
		rc.bumpLocked()
	}
	if cp, ok := opTimeFromValue(reply.Lookup("$replData", "lastOpCommitted")); ok {
		w, _ := reply.Lookup("$replData", "lastCommittedWall").TimeOK()
		rc.learnCommitPointLocked(cp, w)
	}
	if rc.leader != leaderNone {
		rc.updateCommitPointLocked()
	}
	rc.signalLocked()
}

// updateTermLocked adopts a higher term; a primary steps down (spec §5.1).
func (rc *replCoord) updateTermLocked(term int64, why string) {
	if term <= rc.term {
		return
	}
	rc.term = term
	if rc.leader != leaderNone {
		// Stop accepting writes at once: nothing may be logged in a term we do not lead. The
		// transition itself needs the RSTL in X and completes in the background.
		rc.leader = leaderSteppingDown
		rc.electionStats.stepDownsHigherTerm++
		rc.n.events.info("REPL", 21402, "Stepping down from primary, because a new term has begun", "term", term, "cause", why)
		go rc.stepDownUnconditionally("a new term has begun: " + itoa(int(term)))
	}
	rc.bumpLocked()
}

// resetElectionTimerLocked schedules our election at now + electionTimeout + U[0, 15%) (§5.2).
func (rc *replCoord) resetElectionTimerLocked() {
	if rc.cfg == nil {
		return
	}
	et := rc.cfg.settings.electionTimeout
	frac := rc.n.params.floatValue("replElectionTimeoutOffsetLimitFraction")
	jitter := time.Duration(rand.Float64() * frac * float64(et))
	rc.electionDeadline = time.Now().Add(et + jitter)
}

// handleHeartbeat answers replSetHeartbeat (spec §5.1).
func (rc *replCoord) handleHeartbeat(ctx context.Context, r *request) (bson.D, error) {
	setName, _ := r.firstValue().StringValueOK()
	from, _ := r.cmd.Lookup("from").StringValueOK()
	reqTerm, _ := numberAsInt64(r.cmd.Lookup("term"))
	reqVersion, _ := numberAsInt64(r.cmd.Lookup("configVersion"))
	reqCfgTerm, hasCfgTerm := numberAsInt64(r.cmd.Lookup("configTerm"))
	if !hasCfgTerm {
		reqCfgTerm = -1
	}
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if setName != rc.n.opts.ReplSet {
		return nil, mongoerr.New(93, "Our set name did not match that of the request: ours %s, theirs %s", rc.n.opts.ReplSet, setName)
	}
	if rc.startingUpLocked() { // repl_startup.go
		return nil, mongoerr.New(mongoerr.NotYetInitialized, "Received heartbeat while still initializing replication system")
	}
	if rc.cfg == nil {
		// Not initiated: somebody thinks we belong to the set. Heartbeat back to fetch its config.
		if from != "" {
			go rc.fetchConfigFrom(from)
		}
		return bson.D{{Key: "state", Value: int32(stateStartup)}, {Key: "v", Value: int64(-2)},
			{Key: "set", Value: rc.n.opts.ReplSet}, {Key: "term", Value: rc.term}}, nil
	}
	idx := rc.cfg.indexOfHost(from)
	if idx >= 0 && idx != rc.self && reqVersion == rc.cfg.version {
		// prepareHeartbeatResponseV1: a heartbeat from a member of our config version is
		// recorded and credits it as alive (MemberData::updateLiveness), so a member whose
		// heartbeat replies are slow or lost but that keeps heartbeating us does not go stale.
		now := time.Now()
		m := &rc.members[idx]
		m.lastHeartbeatRecv = now
		m.lastUpdate, m.lastUpdateStale = now, false
	}
	if reqTerm > rc.term {
		rc.updateTermLocked(reqTerm, "heartbeat from "+from)
	}
	// A sender that says it is the primary, when we do not know it yet: heartbeat it now rather
	// than at the next interval, so we learn of a new primary (and sync from it) at once.
	if pid, ok := numberAsInt64(r.cmd.Lookup("primaryId")); ok && idx >= 0 && int(pid) == rc.cfg.members[idx].id &&
		rc.primary != idx && reqTerm >= rc.term {
		rc.kickHeartbeat(from)
	}
	d := rc.heartbeatReplyLocked()
	if rc.cfg.newerThan(reqVersion, reqCfgTerm) {
		d = append(d, bson.E{Key: "config", Value: rc.cfg.raw()})
	}
	return d, nil
}

func (rc *replCoord) heartbeatReplyLocked() bson.D {
	state := rc.stateLocked()
	d := bson.D{}
	if state == statePrimary {
		d = append(d, bson.E{Key: "electionTime", Value: rc.electionTime}, bson.E{Key: "electionTerm", Value: rc.leaderTerm})
	}
	applied, durable := rc.lastApplied, rc.lastDurable
	if state == stateStartup2 {
		applied, durable = nullOpTime, nullOpTime
	}
	// Electable as the primary's stepdown sees it (spec §6.1 (c)): a secondary with priority,
	// not in its own stepdown/freeze period.
	electable := rc.self >= 0 && rc.cfg.members[rc.self].isElectable() && state == stateSecondary &&
		!time.Now().Before(rc.stepDownUntil)
	d = append(d,
		bson.E{Key: "state", Value: int32(state)}, bson.E{Key: "v", Value: rc.cfg.version},
		bson.E{Key: "configTerm", Value: rc.cfg.term}, bson.E{Key: "set", Value: rc.cfg.name},
		bson.E{Key: "term", Value: rc.term}, bson.E{Key: "primaryId", Value: int32(memberIDOf(rc.cfg, rc.primary))},
		bson.E{Key: "syncingTo", Value: rc.syncSource},
		bson.E{Key: "durableOpTime", Value: durable.doc()}, bson.E{Key: "durableWallTime", Value: dateOf(rc.lastAppliedWall)},
		bson.E{Key: "opTime", Value: applied.doc()}, bson.E{Key: "wallTime", Value: dateOf(rc.lastAppliedWall)},
		bson.E{Key: "electable", Value: electable},
		bson.E{Key: "$replData", Value: rc.replDataLocked()},
	)
	return d
}

// replDataLocked is the ReplSetMetadata attached to heartbeat and oplog replies (spec §7.3).
func (rc *replCoord) replDataLocked() bson.D {
	return bson.D{{Key: "term", Value: rc.term}, {Key: "lastOpCommitted", Value: rc.commitPoint.doc()},
		{Key: "lastCommittedWall", Value: dateOf(rc.commitWall)}, {Key: "lastOpVisible", Value: rc.lastApplied.doc()},
		{Key: "configVersion", Value: rc.cfg.version}, {Key: "configTerm", Value: rc.cfg.term},
		{Key: "replicaSetId", Value: rc.cfg.settings.replicaSetID},
		{Key: "syncSourceIndex", Value: int32(rc.cfg.indexOfHost(rc.syncSource))},
		{Key: "isPrimary", Value: rc.leader != leaderNone},
		{Key: "primaryIndex", Value: int32(rc.primary)}}
}

func memberIDOf(cfg *replConfig, idx int) int {
	if cfg == nil || idx < 0 || idx >= len(cfg.members) {
		return -1
	}
	return cfg.members[idx].id
}

// fetchConfigFrom heartbeats a member that contacted us while we have no config, and installs
// the config in its reply if it lists us (how a fresh member joins, spec §4.4, §7.5).
func (rc *replCoord) fetchConfigFrom(host string) {
	cmd := bson.D{{Key: "replSetHeartbeat", Value: rc.n.opts.ReplSet}, {Key: "configVersion", Value: int64(-2)},
		{Key: "hbv", Value: int32(1)}, {Key: "from", Value: rc.n.host}, {Key: "term", Value: int64(-1)}, {Key: "$db", Value: "admin"}}
	reply, err := rc.callOnce(context.Background(), host, cmd, 5*time.Second)
	if err != nil {
		return
	}
	cfgDoc, ok := reply.Lookup("config").DocumentOK()
	if !ok {
		return
	}
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	rc.maybeInstallHeartbeatConfigLocked(cfgDoc)
}

// maybeInstallHeartbeatConfigLocked installs a newer config learned from a peer (heartbeat
// reconfig): persist it, and a new member with no data starts initial sync.
func (rc *replCoord) maybeInstallHeartbeatConfigLocked(doc bson.Raw) {
	cfg, err := parseReplConfig(doc)
	if err != nil || cfg.name != rc.n.opts.ReplSet {
		return
	}
	if rc.cfg != nil && !cfg.newerThan(rc.cfg.version, rc.cfg.term) {
		return
	}
	first := rc.cfg == nil
	wasRemoved := rc.cfg != nil && rc.self < 0
	prevState := rc.stateLocked()
	rc.installConfigLocked(cfg)
	go rc.persistConfig(cfg)
	rc.n.events.info("REPL", 21392, "New replica set config in use", "config", cfg.raw().String())
	if rc.self < 0 {
		if rc.leader != leaderNone {
			go rc.stepDownUnconditionally("this node is not in the new config")
		}
		rc.logTransitionLocked(prevState, stateRemoved)
		return
	}
	if first || wasRemoved {
		rc.startMemberLocked() // logs its own transitions
		return
	}
	if now := rc.stateLocked(); now != prevState {
		rc.logTransitionLocked(prevState, now)
	}
}

func (rc *replCoord) persistConfig(cfg *replConfig) {
	if err := rc.n.store.PutMeta(metaConfig, cfg.raw()); err != nil {
		rc.n.events.errorf("REPL", 21393, "Failed to persist replica set config", "error", err.Error())
	}
}

// kickHeartbeat asks the heartbeat loop to contact host ("*": everyone) now.
func (rc *replCoord) kickHeartbeat(host string) {
	select {
	case rc.hbKick <- host:
	default:
	}
}
