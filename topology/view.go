package topology

import "time"

// Mode says whether a sidecar runs beside a mongod (data) or alone (arbiter). Arbiter sidecars
// count towards the sidecars' quorum (DESIGN.md principle 2) but have no local mongod.
type Mode string

// Sidecar modes.
const (
	ModeData    Mode = "data"
	ModeArbiter Mode = "arbiter"
)

// FailureKind says how a connection to a mongod failed. Refused is a first-hand fact from the same
// host (the process is gone); a timeout may just be the network (failover-notes "Crash").
type FailureKind string

// Failure kinds; the empty string means the last attempt succeeded.
const (
	FailureNone    FailureKind = ""
	FailureRefused FailureKind = "refused"
	FailureTimeout FailureKind = "timeout"
	FailureOther   FailureKind = "other"
)

// MemberView is what one sidecar saw at one instant. Sidecars gossip it, so every field has a short
// explicit JSON name and zero values are left out.
type MemberView struct {
	SidecarID  string    `json:"id"`
	Mode       Mode      `json:"mode"`
	Zone       string    `json:"zone,omitempty"`
	ObservedAt time.Time `json:"at"` // the observing sidecar's clock, set by the caller
	// Local is the sidecar's own mongod; zero for arbiter sidecars.
	Local LocalView `json:"local,omitzero"`
	// Probe is this sidecar's write probe against the primary it believes in. It is not part of
	// Local because arbiter sidecars probe too, and sickness needs several witnesses.
	Probe WriteProbe `json:"probe,omitzero"`
	// Peers are the other members as this sidecar's mongod (replSetGetStatus) or its own probes
	// see them.
	Peers []PeerSeen `json:"peers,omitempty"`
	// Primary is the primary this sidecar believes in.
	Primary PrimarySeen `json:"primary,omitzero"`
	// NotReady is set by a sidecar that was ready once and no longer is (e.g. its mongod now
	// reports another set): it still reports, but must not be chosen as the coordinator.
	NotReady bool `json:"not_ready,omitempty"`
	// Cfg fingerprints the configuration keys every sidecar must agree on (config.Agreement);
	// a peer with another Sum makes the receiver not ready.
	Cfg ConfigPrint `json:"cfg,omitzero"`
	// Memory is this sidecar's copy of the set's shared memory (anti-flap, freezes, pause,
	// actions in flight, incidents): receivers merge it into their own (topology/memory.go).
	Memory Memory `json:"mem,omitzero"`
	// JournalProbe is this sidecar's w:1 j:true write probe against the same primary as Probe.
	// It needs nothing from the secondaries, so its trouble is evidence local to the primary
	// (its disk or its write path), whereas Probe (w:"majority") also stalls when the
	// secondaries lag. Only JournalProbe makes a witness of sickness (election/sick.go).
	JournalProbe WriteProbe `json:"jprobe,omitzero"`
	// Remote: this sidecar holds what it needs to send commands to the other members (a data
	// sidecar's mongod credentials and TLS settings, or an arbiter sidecar's credentials
	// section), so it may execute an action on a member whose own sidecar is out of sight.
	Remote bool `json:"remote,omitempty"`
}

// LocalView is a data sidecar's first-hand view of its own mongod. When Reachable is false the
// remaining fields are the last values seen, not current ones.
type LocalView struct {
	Host      string      `json:"host"`
	Reachable bool        `json:"ok"`
	Failure   FailureKind `json:"fail,omitempty"`
	State     MemberState `json:"state"`
	Term      int64       `json:"term,omitempty"`
	// TermSince is when the mongod entered Term (electionCandidateMetrics.lastElectionDate or
	// electionParticipantMetrics.lastVoteDate, spec §3.3, else when the sidecar first saw it):
	// a recent term change means MongoDB's own election is at work.
	TermSince time.Time `json:"term_since,omitzero"`
	// Candidate: electionCandidateMetrics present while not PRIMARY, i.e. running for election
	// (spec §3.3).
	Candidate     bool      `json:"cand,omitempty"`
	OpTime        OpTime    `json:"optime,omitzero"` // appliedOpTime
	LastWrite     time.Time `json:"last_write,omitzero"`
	ConfigVersion int64     `json:"cfg_v,omitempty"`
	ConfigTerm    int64     `json:"cfg_t,omitempty"`
	// Priority and Votes are written even when zero: zero priority is a setting, not an absence.
	Priority float64           `json:"prio"`
	Votes    int               `json:"votes"`
	Hidden   bool              `json:"hidden,omitempty"`
	Tags     map[string]string `json:"tags,omitempty"`
	// FrozenUntil is the end of a replSetFreeze / stepdown period if known (spec §6.1, §6.2).
	FrozenUntil time.Time `json:"frozen_until,omitzero"`
	// CatchingUp: the mongod won an election (replSetGetStatus myState PRIMARY) but does not
	// accept writes yet: it is in catch-up or drain (spec §5.4). hello says isWritablePrimary
	// false and electionCandidateMetrics has no newTermStartDate until the new term's first
	// entry is written (replication_coordinator_impl.cpp _onFollowerModeStateChange /
	// signalDrainComplete).
	CatchingUp bool `json:"catchup,omitempty"`
}

// WriteProbe is the state of a sidecar's periodic small write to the primary (MemberView.Probe
// with w:"majority", MemberView.JournalProbe with w:1 j:true).
type WriteProbe struct {
	Target      string        `json:"target,omitempty"` // the host written to
	LastLatency time.Duration `json:"lat,omitempty"`
	LastOK      time.Time     `json:"last_ok,omitzero"`
	LastErr     string        `json:"err,omitempty"`
	// ConsecutiveFails counts failed probes since LastOK.
	ConsecutiveFails int `json:"fails,omitempty"`
	// Outstanding: a probe was sent at OutstandingSince and has not returned; a hung disk shows
	// up here before any error does.
	Outstanding      bool      `json:"out,omitempty"`
	OutstandingSince time.Time `json:"out_since,omitzero"`
	// FailingSince is when the current run of failed, hung or over-threshold probes began;
	// zero while probes are fine.
	FailingSince time.Time `json:"failing_since,omitzero"`
}

// PeerSeen is one other member as this sidecar's mongod reports it (replSetGetStatus members[],
// spec §3.3) or as the sidecar's own probes found it.
type PeerSeen struct {
	Host          string      `json:"host"`
	State         MemberState `json:"state"`
	Healthy       bool        `json:"ok"` // health 1.0
	OpTime        OpTime      `json:"optime,omitzero"`
	LastHeartbeat time.Time   `json:"hb,omitzero"`
	PingMs        int64       `json:"ping,omitempty"`
	SyncSource    string      `json:"sync,omitempty"`
	// HeartbeatHealthy is the mongod's own health flag for the member (replSetGetStatus
	// members[].health, spec §3.3), kept apart from Healthy, which the sidecar's own probe of the
	// member overrides: with LastHeartbeat it is the mongods' evidence (election/veto.go).
	HeartbeatHealthy bool `json:"hb_ok,omitempty"`
	// LastHeartbeatRecv is when this mongod last received a heartbeat request from the member
	// (replSetGetStatus lastHeartbeatRecv, spec §3.3): the member's own outgoing heartbeats.
	LastHeartbeatRecv time.Time `json:"hb_recv,omitzero"`
}

// PrimarySeen is the primary this sidecar's mongod believes in (hello "primary", spec §2.1) and
// whether the sidecar reached it itself on its last direct probe.
type PrimarySeen struct {
	Host string `json:"host,omitempty"`
	Term int64  `json:"term,omitempty"`
	// ElectionTerm is the term encoded in the primary's electionId (spec §5.4); drivers follow the
	// newest one.
	ElectionTerm int64 `json:"eid_term,omitempty"`
	Reachable    bool  `json:"ok,omitempty"`
}

// Peer returns what v says about host, if anything.
func (v MemberView) Peer(host string) (PeerSeen, bool) {
	for _, p := range v.Peers {
		if p.Host == host {
			return p, true
		}
	}
	return PeerSeen{}, false
}

// Reach is one sidecar's opinion on whether a host is reachable.
type Reach int

// Opinions, strongest source first in MemberView.Reaches.
const (
	ReachUnknown Reach = iota
	ReachYes
	ReachNo
)

// Reaches says whether v's sidecar can reach host: first-hand for its own mongod, then its direct
// probe of the primary, then its mongod's heartbeats (which lag by up to heartbeatTimeoutSecs,
// spec §5.1).
func (v MemberView) Reaches(host string) Reach {
	switch {
	case host == "":
		return ReachUnknown
	case v.Local.Host == host:
		return reachOf(v.Local.Reachable)
	case v.Primary.Host == host:
		return reachOf(v.Primary.Reachable)
	}
	if p, ok := v.Peer(host); ok {
		return reachOf(p.Healthy)
	}
	return ReachUnknown
}

func reachOf(ok bool) Reach {
	if ok {
		return ReachYes
	}
	return ReachNo
}
