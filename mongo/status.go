package mongo

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/topology"
)

// Status is a replSetGetStatus reply (spec §3.3), the fields rsguard reads.
type Status struct {
	Set               string
	Date              time.Time
	MyState           topology.MemberState
	Term              int64
	TooStale          bool
	SyncSource        string
	SyncSourceID      int
	HeartbeatInterval time.Duration
	// Vote arithmetic as mongod computes it; zero on versions that do not report it.
	MajorityVoteCount          int
	WriteMajorityCount         int
	VotingMembersCount         int
	WritableVotingMembersCount int

	LastCommitted     topology.OpTime
	LastCommittedWall time.Time
	Applied           topology.OpTime
	AppliedWall       time.Time
	Durable           topology.OpTime
	DurableWall       time.Time

	ElectionCandidate   *ElectionCandidateMetrics
	ElectionParticipant *ElectionParticipantMetrics
	InitialSync         *InitialSyncStatus
	Members             []MemberStatus
}

// MemberStatus is one members[] entry. Values about other members come from heartbeats and lag by
// up to a heartbeat interval (spec §3.3).
type MemberStatus struct {
	ID                   int
	Name                 string
	Health               float64 // 1 up, 0 down
	State                topology.MemberState
	StateStr             string
	Uptime               time.Duration
	OpTime               topology.OpTime
	OpTimeDate           time.Time
	OpTimeDurable        topology.OpTime
	LastAppliedWall      time.Time
	LastHeartbeat        time.Time
	LastHeartbeatRecv    time.Time
	PingMs               int64
	LastHeartbeatMessage string
	SyncSource           string
	SyncSourceID         int
	InfoMessage          string
	ElectionTime         time.Time // the primary's election (electionDate, else electionTime's seconds)
	ConfigVersion        int64
	ConfigTerm           int64
	MaintenanceMode      int
	Self                 bool
}

// Healthy reports whether the member answers heartbeats (health 1.0).
func (m MemberStatus) Healthy() bool { return m.Health >= 0.5 }

// ElectionCandidateMetrics is present on a primary and on a candidate until it loses (spec §3.3).
type ElectionCandidateMetrics struct {
	Reason                     string // electionTimeout, priorityTakeover, stepUpRequest, ...
	Date                       time.Time
	Term                       int64
	NumVotesNeeded             int
	PriorityAtElection         float64
	PriorPrimaryMemberID       int // -1 when absent
	NewTermStartDate           time.Time
	WMajorityWriteAvailability time.Time
}

// ElectionParticipantMetrics describes this node's last vote.
type ElectionParticipantMetrics struct {
	VotedForCandidate bool
	Term              int64
	LastVoteDate      time.Time
	CandidateMemberID int
	VoteReason        string // "" when the vote was granted
}

// InitialSyncStatus summarises initialSyncStatus (spec §7.6), present only in STARTUP2.
type InitialSyncStatus struct {
	Method                     string // logical or fileCopyBased; "" before 5.2
	FailedAttempts             int
	MaxFailedAttempts          int
	Start                      time.Time
	Elapsed                    time.Duration
	RemainingEstimated         time.Duration
	ApproxTotalDataSize        int64
	ApproxTotalBytesCopied     int64
	AppliedOps                 int64
	DatabasesCloned            int
	SyncSourceUnreachableSince time.Time
}

// Self returns the members[] entry with self: true.
func (s Status) Self() (MemberStatus, bool) {
	for _, m := range s.Members {
		if m.Self {
			return m, true
		}
	}
	return MemberStatus{}, false
}

// Member returns the entry for host.
func (s Status) Member(host string) (MemberStatus, bool) {
	for _, m := range s.Members {
		if m.Name == host {
			return m, true
		}
	}
	return MemberStatus{}, false
}

// PrimaryMember returns the member this node reports as PRIMARY (itself included).
func (s Status) PrimaryMember() (MemberStatus, bool) {
	for _, m := range s.Members {
		if m.State == topology.StatePrimary && (m.Self || m.Healthy()) {
			return m, true
		}
	}
	return MemberStatus{}, false
}

// DecodeStatus reads a replSetGetStatus reply.
func DecodeStatus(raw bson.Raw) Status {
	d := rdoc(raw)
	s := Status{
		Set:                        d.str("set"),
		Date:                       d.time("date"),
		MyState:                    topology.MemberState(d.int("myState", int(topology.StateUnknown))),
		Term:                       d.int64("term", 0),
		TooStale:                   d.bool("tooStale", false),
		SyncSource:                 d.str("syncSourceHost"),
		SyncSourceID:               d.int("syncSourceId", -1),
		HeartbeatInterval:          d.millis("heartbeatIntervalMillis", 0),
		MajorityVoteCount:          d.int("majorityVoteCount", 0),
		WriteMajorityCount:         d.int("writeMajorityCount", 0),
		VotingMembersCount:         d.int("votingMembersCount", 0),
		WritableVotingMembersCount: d.int("writableVotingMembersCount", 0),
		LastCommitted:              topology.NullOpTime,
		Applied:                    topology.NullOpTime,
		Durable:                    topology.NullOpTime,
	}
	if o, ok := d.doc("optimes"); ok {
		s.LastCommitted = o.opTime("lastCommittedOpTime")
		s.LastCommittedWall = o.time("lastCommittedWallTime")
		s.Applied = o.opTime("appliedOpTime")
		s.AppliedWall = o.time("lastAppliedWallTime")
		s.Durable = o.opTime("durableOpTime")
		s.DurableWall = o.time("lastDurableWallTime")
	}
	if c, ok := d.doc("electionCandidateMetrics"); ok {
		s.ElectionCandidate = &ElectionCandidateMetrics{
			Reason:                     c.str("lastElectionReason"),
			Date:                       c.time("lastElectionDate"),
			Term:                       max(c.int64("electionTerm", 0), c.int64("termAtElection", 0)),
			NumVotesNeeded:             c.int("numVotesNeeded", 0),
			PriorityAtElection:         c.float("priorityAtElection", 0),
			PriorPrimaryMemberID:       c.int("priorPrimaryMemberId", -1),
			NewTermStartDate:           c.time("newTermStartDate"),
			WMajorityWriteAvailability: c.time("wMajorityWriteAvailabilityDate"),
		}
	}
	if p, ok := d.doc("electionParticipantMetrics"); ok {
		s.ElectionParticipant = &ElectionParticipantMetrics{
			VotedForCandidate: p.bool("votedForCandidate", false),
			Term:              p.int64("electionTerm", 0),
			LastVoteDate:      p.time("lastVoteDate"),
			CandidateMemberID: p.int("electionCandidateMemberId", -1),
			VoteReason:        p.str("voteReason"),
		}
	}
	if is, ok := d.doc("initialSyncStatus"); ok {
		s.InitialSync = decodeInitialSync(is)
	}
	for _, m := range d.docs("members") {
		s.Members = append(s.Members, decodeMember(m))
	}
	return s
}

func decodeMember(m rdoc) MemberStatus {
	ms := MemberStatus{
		ID:                   m.int("_id", -1),
		Name:                 m.str("name"),
		Health:               m.float("health", 0),
		State:                topology.MemberState(m.int("state", int(topology.StateUnknown))),
		StateStr:             m.str("stateStr"),
		Uptime:               time.Duration(m.int64("uptime", 0)) * time.Second,
		OpTime:               m.opTime("optime"),
		OpTimeDate:           m.time("optimeDate"),
		OpTimeDurable:        m.opTime("optimeDurable"),
		LastAppliedWall:      m.time("lastAppliedWallTime"),
		LastHeartbeat:        m.time("lastHeartbeat"),
		LastHeartbeatRecv:    m.time("lastHeartbeatRecv"),
		PingMs:               m.int64("pingMs", 0),
		LastHeartbeatMessage: m.str("lastHeartbeatMessage"),
		SyncSource:           m.str("syncSourceHost"),
		SyncSourceID:         m.int("syncSourceId", -1),
		InfoMessage:          m.str("infoMessage"),
		ElectionTime:         m.time("electionDate"),
		ConfigVersion:        m.int64("configVersion", -1),
		ConfigTerm:           m.int64("configTerm", -1),
		MaintenanceMode:      m.int("maintenanceMode", 0),
		Self:                 m.bool("self", false),
	}
	if ms.ElectionTime.IsZero() {
		ms.ElectionTime = m.time("electionTime")
	}
	if ms.Self && !m.has("health") {
		ms.Health = 1 // self is always healthy; some versions omit the field
	}
	return ms
}

func decodeInitialSync(d rdoc) *InitialSyncStatus {
	is := &InitialSyncStatus{
		Method:                     d.str("method"),
		FailedAttempts:             d.int("failedInitialSyncAttempts", 0),
		MaxFailedAttempts:          d.int("maxFailedInitialSyncAttempts", 0),
		Start:                      d.time("initialSyncStart"),
		Elapsed:                    d.millis("initialSyncElapsedMillis", 0),
		RemainingEstimated:         d.millis("remainingInitialSyncEstimatedMillis", 0),
		ApproxTotalDataSize:        d.int64("approxTotalDataSize", 0),
		ApproxTotalBytesCopied:     d.int64("approxTotalBytesCopied", 0),
		AppliedOps:                 d.int64("appliedOps", 0),
		SyncSourceUnreachableSince: d.time("syncSourceUnreachableSince"),
	}
	if dbs, ok := d.doc("databases"); ok {
		is.DatabasesCloned = dbs.int("databasesCloned", 0)
	}
	return is
}
