package mongoemu

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/storage"
)

// memberData is what this node knows of another member, from heartbeats and
// replSetUpdatePosition (spec §3.3 members[], §5.1).
type memberData struct {
	contacted         bool
	up                bool
	state             memberState
	applied, durable  opTime
	appliedWall       time.Time
	durableWall       time.Time
	lastHeartbeat     time.Time // last heartbeat reply received
	lastHeartbeatRecv time.Time // last heartbeat request received from it
	lastUpdate        time.Time // liveness: heartbeat replies and requests, replSetUpdatePosition
	upSince           time.Time
	pingMs            int64 // EWMA, as replSetGetStatus reports it
	recentRTT         [5]int64
	rttSamples        int
	syncSource        string
	syncSourceID      int
	configVersion     int64
	configTerm        int64
	electionTime      bson.Timestamp
	term              int64
	leaderTerm        int64 // term the member won, while it reports PRIMARY
	message           string
	electable         bool

	// Liveness and catch-up bookkeeping (member_data.h): lastUpdateStale is set once lastUpdate
	// is electionTimeout old (checkMemberTimeouts); updatedSinceRestart says a heartbeat verdict
	// (a reply, or the member marked down) arrived since the last heartbeat restart.
	lastUpdateStale     bool
	updatedSinceRestart bool
}

// replCoord is the replication coordinator of one node: state, config, term and votes, member
// liveness, the commit point, and the background loops (heartbeats, election timer, oplog
// fetcher). All fields below mu-comments are guarded by n.mu.
type replCoord struct {
	n *Node

	// guarded by n.mu
	cfg              *replConfig
	self             int // index into cfg.members; -1 when not a member (REMOVED)
	follower         memberState
	leader           leaderMode
	term             int64
	lastVoteTerm     int64
	lastVoteFor      int
	lastApplied      opTime
	lastAppliedWall  time.Time
	lastDurable      opTime
	commitPoint      opTime
	commitWall       time.Time
	members          []memberData
	primary          int // index of the primary we believe in, -1 if none
	stepDownUntil    time.Time
	maintenance      int
	tooStale         bool
	syncSource       string
	infoMessage      string
	electionDeadline time.Time
	takeoverAt       time.Time // scheduled priority takeover, zero if none
	electionTime     bson.Timestamp
	leaderTerm       int64 // the term this node won while it is (or is leaving) PRIMARY
	electionDate     time.Time
	firstOpOfTerm    opTime
	rbid             int32
	minValid         opTime
	lastTS           bson.Timestamp
	candidate        *candidateMetrics
	participant      *participantMetrics
	electionStats    electionCounters
	running          bool // an election is in flight
	syncFromRequest  string
	initialSync      *initialSyncProgress
	waiters          map[*wcWaiter]struct{}
	catchUpSt        *catchUpState // non-nil while the primary is in catch-up mode
	catchUpTakeover  time.Time     // scheduled catch-up takeover, zero if none
	hbTargets        map[string]*hbTarget
	hbEpoch          uint64        // bumped by a heartbeat restart: replies to older requests are dropped
	stateChanged     chan struct{} // closed and replaced on any repl state change (fetcher, waiters)
	// versions is the history majority reads need (readconcern_wait.go, storage/versions.go).
	versions *storage.Versions

	// oplogMu serialises the writers of our oplog with each other (timestamp order, retryable
	// write checks); state transitions exclude writers through the RSTL (n.locks), not this.
	oplogMu sync.Mutex
	// stepDownLocked: a stepdown attempt took the RSTL in X, after which writes are refused at
	// dispatch (_canAcceptNonLocalWrites is cleared under the RSTL); before it they queue.
	stepDownLocked bool
	stopCh         chan struct{}
	wg             sync.WaitGroup
	hb             *heartbeatClients // heartbeat connections
	hbKick         chan string       // hosts to heartbeat at once ("*" for all)
	up             *heartbeatClients // replSetUpdatePosition connections

	retry      *retryTable
	posLatest  atomic.Pointer[positionReport]
	posSending atomic.Bool
	rwcSeen    atomic.Pointer[rwcSeen]      // rwc_defaults.go
	applier    atomic.Pointer[oplogApplier] // the running fetch's applier (repl_applier.go)
	pendingCfg *replConfig                  // stored config not yet installed at startup (guarded by n.mu; repl_startup.go)
}

// Durable metadata keys (local.system.replset, local.replset.election, rbid, minvalid).
const (
	metaConfig      = "local.system.replset"
	metaLastVote    = "local.replset.election"
	metaRBID        = "local.system.rollback.id"
	metaMinValid    = "local.replset.minvalid"
	metaInitialSync = "local.replset.initialSyncFlag"
)

func newReplCoord(n *Node) (*replCoord, error) {
	rc := &replCoord{n: n, self: -1, follower: stateStartup, primary: -1, lastApplied: nullOpTime,
		lastDurable: nullOpTime, commitPoint: nullOpTime, minValid: nullOpTime,
		waiters: map[*wcWaiter]struct{}{}, stateChanged: make(chan struct{}), stopCh: make(chan struct{})}
	rc.hb, rc.up = newHeartbeatClients(rc.dialInternal), newHeartbeatClients(rc.dialInternal)
	rc.hbKick = make(chan string, 16)
	rc.hbTargets = map[string]*hbTarget{}
	rc.retry = newRetryTable()
	if err := rc.loadDurableState(); err != nil {
		return nil, err
	}
	// The data may hold writes a majority never had and no history says which: no majority
	// snapshot until the commit point reaches our oplog top (storage/versions.go).
	rc.versions = storage.NewVersions()
	rc.versions.Reset(rc.lastApplied.ts)
	n.store.SetVersions(rc.versions)
	return rc, nil
}

// loadDurableState is startup recovery (spec §7.8): config, last vote, rbid, and the top of the
// oplog. The process-level topologyVersion is new (node.go).
func (rc *replCoord) loadDurableState() error {
	st := rc.n.store
	if raw, ok, err := st.GetMeta(metaLastVote); err != nil {
		return fmt.Errorf("load last vote: %w", err)
	} else if ok {
		rc.lastVoteTerm, _ = numberAsInt64(raw.Lookup("term"))
		c, _ := numberAsInt64(raw.Lookup("candidateIndex"))
		rc.lastVoteFor = int(c)
		rc.term = rc.lastVoteTerm
	}
	if raw, ok, err := st.GetMeta(metaRBID); err != nil {
		return fmt.Errorf("load rbid: %w", err)
	} else if ok {
		v, _ := numberAsInt64(raw.Lookup("rbid"))
		rc.rbid = int32(v)
		// replication_coordinator_impl.cpp _startLoadLocalConfig: after an unclean shutdown the
		// node may have lost writes it had acknowledged to a sync target, so it bumps its
		// rollback ID; a member that read the old RBID must not trust what it fetched since.
		if rc.n.store.LastShutdownUnclean() {
			rc.n.events.info("REPL", 501401, "Incrementing the rollback ID after unclean shutdown")
			rc.rbid++
			if err := rc.persistRBID(); err != nil {
				return fmt.Errorf("increment rbid: %w", err)
			}
		}
	} else {
		rc.rbid = int32(time.Now().Unix() & 0x7fffff)
		if err := rc.persistRBID(); err != nil {
			return err
		}
	}
	if raw, ok, err := st.GetMeta(metaMinValid); err == nil && ok {
		if ot, ok := opTimeFromDoc(raw); ok {
			rc.minValid = ot
		}
	}
	var last bson.Raw
	var ok bool
	err := st.View(func(tx *storage.Tx) error {
		var err error
		last, ok, err = tx.OplogLast()
		return err
	})
	if err != nil {
		return fmt.Errorf("read oplog top: %w", err)
	}
	if ok {
		if ot, ok := opTimeFromDoc(last); ok {
			rc.lastApplied, rc.lastDurable = ot, ot
			rc.lastTS = ot.ts
			if ot.term > rc.term {
				rc.term = ot.term
			}
			if w, ok := last.Lookup("wall").TimeOK(); ok {
				rc.lastAppliedWall = w
			}
		}
	}
	if err := rc.retry.rebuild(st); err != nil {
		return fmt.Errorf("rebuild retryable-write table: %w", err)
	}
	raw, ok, err := st.GetMeta(metaConfig)
	if err != nil {
		return fmt.Errorf("load replica set config: %w", err)
	}
	if !ok {
		return nil
	}
	cfg, err := parseReplConfig(raw)
	if err != nil {
		return fmt.Errorf("stored replica set config is invalid: %w", err)
	}
	if cfg.name != rc.n.opts.ReplSet {
		return fmt.Errorf("stored replica set config is for set %q but --replSet is %q", cfg.name, rc.n.opts.ReplSet)
	}
	if cfg.term > rc.term {
		rc.term = cfg.term
	}
	// Installed later by startupSequence, once the listener is up (_finishLoadLocalConfig):
	// until then the member is in STARTUP without a config (repl_startup.go).
	rc.pendingCfg = cfg
	return nil
}

func (rc *replCoord) persistRBID() error {
	b, _ := bson.Marshal(bson.D{{Key: "rbid", Value: rc.rbid}})
	return rc.n.store.PutMeta(metaRBID, b)
}

// installConfigLocked adopts cfg: member table, self index, and the state that follows
// (REMOVED when we are not in it). Caller persists and bumps topology as needed.
func (rc *replCoord) installConfigLocked(cfg *replConfig) {
	old := rc.cfg
	rc.cfg = cfg
	prev := rc.members
	rc.members = make([]memberData, len(cfg.members))
	for i, m := range cfg.members {
		rc.members[i] = memberData{state: stateUnknown, applied: nullOpTime, durable: nullOpTime, configVersion: -1, configTerm: -1}
		if old != nil {
			if j := old.indexOfID(m.id); j >= 0 && j < len(prev) && old.members[j].host == m.host {
				rc.members[i] = prev[j]
			}
		}
	}
	rc.self = rc.findSelf(cfg)
	if rc.primary >= 0 && (old == nil || rc.primary >= len(old.members) || cfg.indexOfHost(old.members[rc.primary].host) < 0) {
		rc.primary = -1
	} else if rc.primary >= 0 {
		rc.primary = cfg.indexOfHost(old.members[rc.primary].host)
	}
	if rc.self >= 0 && rc.leader != leaderNone {
		rc.primary = rc.self
	}
	rc.bumpLocked()
}

// findSelf locates this node in a config: its own host:port, or a name for one of its bound
// addresses with the same port (mongod's isSelf).
func (rc *replCoord) findSelf(cfg *replConfig) int {
	if i := cfg.indexOfHost(rc.n.host); i >= 0 {
		return i
	}
	_, myPort, _ := net.SplitHostPort(rc.n.host)
	for i, m := range cfg.members {
		h, p, err := net.SplitHostPort(m.host)
		if err != nil || p != myPort {
			continue
		}
		for _, ln := range rc.n.listeners {
			ip := ln.Addr().(*net.TCPAddr).IP.String()
			if h == ip || (h == "localhost" && ip == "127.0.0.1") {
				return i
			}
		}
	}
	return -1
}

// stateLocked computes the member state like TopologyCoordinator::getMemberState (spec §3.1).
func (rc *replCoord) stateLocked() memberState {
	switch {
	case rc.cfg == nil:
		return stateStartup
	case rc.self < 0:
		return stateRemoved
	case rc.leader != leaderNone:
		return statePrimary
	case rc.cfg.members[rc.self].arbiterOnly:
		return stateArbiter
	case rc.follower == stateSecondary && rc.maintenance > 0:
		return stateRecovering
	}
	return rc.follower
}

// setFollowerLocked changes the follower mode, logging the transition like mongod (id 21358).
func (rc *replCoord) setFollowerLocked(s memberState) {
	old := rc.stateLocked()
	rc.follower = s
	if now := rc.stateLocked(); now != old {
		rc.logTransitionLocked(old, now)
	}
	rc.bumpLocked()
}

func (rc *replCoord) logTransitionLocked(old, now memberState) {
	rc.n.events.info("REPL", 21358, "Replica set state transition", "newState", now.String(), "oldState", old.String())
}

// bumpLocked signals a change: hello waiters (topologyVersion) and internal waiters.
func (rc *replCoord) bumpLocked() {
	rc.n.bumpTopology()
	rc.signalLocked()
}

// signalLocked wakes internal waiters (write concern, fetcher) without a topology bump.
func (rc *replCoord) signalLocked() {
	rc.publishSnapshotLocked()
	close(rc.stateChanged)
	rc.stateChanged = make(chan struct{})
	rc.checkWaitersLocked()
}

func (rc *replCoord) selfConfig() memberConfig { return rc.cfg.members[rc.self] }

func (rc *replCoord) isArbiterLocked() bool {
	return rc.cfg != nil && rc.self >= 0 && rc.cfg.members[rc.self].arbiterOnly
}

// clusterTime is the node's latest optime timestamp, reported as $clusterTime/operationTime.
func (rc *replCoord) clusterTime() (bson.Timestamp, bool) {
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if rc.cfg == nil || rc.lastTS.T == 0 {
		return bson.Timestamp{}, false
	}
	return rc.lastTS, true
}

func (rc *replCoord) settings() replSettings { return rc.cfg.settings }

func memberName(cfg *replConfig, i int) string {
	if cfg == nil || i < 0 || i >= len(cfg.members) {
		return ""
	}
	return cfg.members[i].host
}

func itoa(i int) string { return strconv.Itoa(i) }

// notePing records a heartbeat round trip: the EWMA replSetGetStatus shows, and a short window
// of recent samples for sync-source choice.
func (m *memberData) notePing(ms int64) {
	if m.pingMs == 0 {
		m.pingMs = ms
	} else {
		m.pingMs = (m.pingMs*4 + ms) / 5
	}
	m.recentRTT[m.rttSamples%len(m.recentRTT)] = ms
	m.rttSamples++
}

// nearPing is the least of the recent round trips: a blip of a second or two must not make a
// member look far away for the minute an EWMA takes to forget it, or sync sources flap onto
// secondaries after every network hiccup.
func (m *memberData) nearPing() int64 {
	n := min(m.rttSamples, len(m.recentRTT))
	if n == 0 {
		return m.pingMs
	}
	best := m.recentRTT[0]
	for _, v := range m.recentRTT[1:n] {
		best = min(best, v)
	}
	return best
}
