package mongo

import (
	"encoding/binary"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/topology"
)

// Hello is a mongod's hello (or legacy isMaster) reply, replication fields only (spec §2.1).
type Hello struct {
	SetName    string
	SetVersion int64
	// IsWritablePrimary is false during catch-up/drain and while a stepdown attempt is pending,
	// even though replSetGetStatus already (or still) says PRIMARY (spec §2.2).
	IsWritablePrimary bool
	Secondary         bool
	ArbiterOnly       bool
	Passive           bool
	Hidden            bool
	// IsReplicaSet and Info are set by a member without a usable config: never initiated
	// (no SetName) or REMOVED (SetName present), spec §2.1.
	IsReplicaSet       bool
	Info               string
	Primary            string
	Me                 string
	Hosts              []string
	Passives           []string
	Arbiters           []string
	Tags               map[string]string
	SecondaryDelaySecs int64
	// ElectionID is present only while this node is primary; ElectionTerm is the term encoded in
	// it (spec §5.4), 0 when absent or not a protocol-version-1 id.
	ElectionID      string
	ElectionTerm    int64
	LastWrite       LastWrite
	TopologyVersion TopologyVersion
	LocalTime       time.Time
	MaxWireVersion  int
}

// LastWrite is hello's lastWrite block. Its dates have second precision (spec §2.1); the majority
// fields are zero until a committed snapshot exists.
type LastWrite struct {
	OpTime         topology.OpTime
	Date           time.Time
	MajorityOpTime topology.OpTime
	MajorityDate   time.Time
}

// TopologyVersion identifies a mongod process and its state changes; the counter is bumped on every
// stepdown, election and shutdown (spec §2.4). A new ProcessID means the process restarted.
type TopologyVersion struct {
	ProcessID string // hex ObjectId
	Counter   int64
}

// State infers a member state from hello alone. Hello cannot tell RECOVERING, STARTUP2 and
// ROLLBACK apart, so those read as StateUnknown; use replSetGetStatus for them.
func (h Hello) State() topology.MemberState {
	switch {
	case h.IsReplicaSet && h.SetName == "":
		return topology.StateStartup
	case h.IsReplicaSet:
		return topology.StateRemoved
	case h.IsWritablePrimary || h.ElectionID != "":
		return topology.StatePrimary
	case h.Secondary:
		return topology.StateSecondary
	case h.ArbiterOnly:
		return topology.StateArbiter
	}
	return topology.StateUnknown
}

// DecodeHello reads a hello or isMaster reply.
func DecodeHello(raw bson.Raw) Hello {
	d := rdoc(raw)
	h := Hello{
		SetName:            d.str("setName"),
		SetVersion:         d.int64("setVersion", 0),
		IsWritablePrimary:  d.bool("isWritablePrimary", false) || d.bool("ismaster", false),
		Secondary:          d.bool("secondary", false),
		ArbiterOnly:        d.bool("arbiterOnly", false),
		Passive:            d.bool("passive", false),
		Hidden:             d.bool("hidden", false),
		IsReplicaSet:       d.bool("isreplicaset", false),
		Info:               d.str("info"),
		Primary:            d.str("primary"),
		Me:                 d.str("me"),
		Hosts:              d.strs("hosts"),
		Passives:           d.strs("passives"),
		Arbiters:           d.strs("arbiters"),
		Tags:               d.tags("tags"),
		SecondaryDelaySecs: max(d.int64("secondaryDelaySecs", 0), d.int64("slaveDelay", 0)),
		LocalTime:          d.time("localTime"),
		MaxWireVersion:     d.int("maxWireVersion", 0),
	}
	if v, ok := d.val("electionId"); ok {
		if oid, ok := v.ObjectIDOK(); ok {
			h.ElectionID = oid.Hex()
			h.ElectionTerm, _ = ElectionTerm(oid)
		}
	}
	if lw, ok := d.doc("lastWrite"); ok {
		h.LastWrite = LastWrite{
			OpTime:         lw.opTime("opTime"),
			Date:           lw.time("lastWriteDate"),
			MajorityOpTime: lw.opTime("majorityOpTime"),
			MajorityDate:   lw.time("majorityWriteDate"),
		}
	} else {
		h.LastWrite = LastWrite{OpTime: topology.NullOpTime, MajorityOpTime: topology.NullOpTime}
	}
	if tv, ok := d.doc("topologyVersion"); ok {
		if v, ok := tv.val("processId"); ok {
			if oid, ok := v.ObjectIDOK(); ok {
				h.TopologyVersion.ProcessID = oid.Hex()
			}
		}
		h.TopologyVersion.Counter = tv.int64("counter", 0)
	}
	return h
}

// electionIDPrefix marks a protocol-version-1 electionId: OID::fromTerm writes 0x7fffffff and then
// the term as 8 big-endian bytes (spec §5.4), so ids compare by term.
const electionIDPrefix = 0x7fffffff

// ElectionTerm decodes the term from a protocol-version-1 electionId. It reports false for ids of
// another shape (protocol version 0 used ordinary ObjectIds).
func ElectionTerm(id [12]byte) (int64, bool) {
	if binary.BigEndian.Uint32(id[:4]) != electionIDPrefix {
		return 0, false
	}
	t := binary.BigEndian.Uint64(id[4:])
	if t > 1<<63-1 {
		return 0, false
	}
	return int64(t), true
}

// ElectionIDForTerm is the electionId a primary elected in term uses (OID::fromTerm).
func ElectionIDForTerm(term int64) [12]byte {
	var id [12]byte
	binary.BigEndian.PutUint32(id[:4], electionIDPrefix)
	binary.BigEndian.PutUint64(id[4:], uint64(term))
	return id
}
