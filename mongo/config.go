package mongo

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ReplConfig is a replica-set configuration document (spec §4.1) as replSetGetConfig returns it.
// Raw keeps the document as read: Bumped patches it instead of re-marshalling the struct, so
// fields this type does not model (horizons, getLastErrorModes, replicaSetId, newer server
// additions) survive a reconfig untouched.
type ReplConfig struct {
	ID              string // the set name
	Version         int64
	Term            int64 // -1 when absent ("uninitialized", e.g. after a force reconfig)
	ProtocolVersion int64
	Members         []ConfigMember
	Settings        ConfigSettings
	Raw             bson.Raw
}

// ConfigMember is one members[] entry with mongod's defaults applied to absent fields.
type ConfigMember struct {
	ID                 int
	Host               string
	ArbiterOnly        bool
	BuildIndexes       bool
	Hidden             bool
	Priority           float64
	Votes              int
	Tags               map[string]string
	SecondaryDelaySecs int64
	// NewlyAdded is internal to mongod (spec §4.5) and only shown with includeNewlyAdded; it is
	// read-only here.
	NewlyAdded bool
}

// NewConfigMember is a data-bearing voter with mongod's defaults, for adding to a config.
func NewConfigMember(id int, host string) ConfigMember {
	return ConfigMember{ID: id, Host: host, BuildIndexes: true, Priority: 1, Votes: 1}
}

// Voter reports whether the member votes (spec §4.2).
func (m ConfigMember) Voter() bool { return m.Votes > 0 && !m.NewlyAdded }

// Electable reports whether the member can become primary by configuration (spec §4.2).
func (m ConfigMember) Electable() bool { return !m.ArbiterOnly && m.Priority > 0 }

// ConfigSettings are the settings rsguard reads or tunes, defaults applied (spec §4.1).
type ConfigSettings struct {
	ChainingAllowed            bool
	HeartbeatIntervalMillis    int64
	HeartbeatTimeoutSecs       int64
	ElectionTimeoutMillis      int64
	CatchUpTimeoutMillis       int64
	CatchUpTakeoverDelayMillis int64
	ReplicaSetID               string // hex ObjectId; read-only, mongod refuses changes
}

// Defaults of the settings document (spec §0, §4.1).
const (
	DefaultHeartbeatIntervalMillis    = 2000
	DefaultHeartbeatTimeoutSecs       = 10
	DefaultElectionTimeoutMillis      = 10000
	DefaultCatchUpTimeoutMillis       = -1
	DefaultCatchUpTakeoverDelayMillis = 30000
)

// Member returns the member with host.
func (c ReplConfig) Member(host string) (ConfigMember, bool) {
	for _, m := range c.Members {
		if m.Host == host {
			return m, true
		}
	}
	return ConfigMember{}, false
}

// MemberByID returns the member with _id id.
func (c ReplConfig) MemberByID(id int) (ConfigMember, bool) {
	for _, m := range c.Members {
		if m.ID == id {
			return m, true
		}
	}
	return ConfigMember{}, false
}

// Voters counts the voting members, arbiters included.
func (c ReplConfig) Voters() int {
	n := 0
	for _, m := range c.Members {
		if m.Voter() {
			n++
		}
	}
	return n
}

// Clone copies c deeply enough that editing members or tags leaves c alone. Raw is shared; it is
// never modified in place.
func (c ReplConfig) Clone() ReplConfig {
	out := c
	out.Members = make([]ConfigMember, len(c.Members))
	for i, m := range c.Members {
		if m.Tags != nil {
			tags := make(map[string]string, len(m.Tags))
			for k, v := range m.Tags {
				tags[k] = v
			}
			m.Tags = tags
		}
		out.Members[i] = m
	}
	return out
}

// DecodeConfig reads a configuration document: the "config" field of a replSetGetConfig reply,
// or the document itself.
func DecodeConfig(raw bson.Raw) ReplConfig {
	d := rdoc(raw)
	if inner, ok := d.doc("config"); ok {
		d = inner
	}
	c := ReplConfig{
		ID:              d.str("_id"),
		Version:         d.int64("version", 0),
		Term:            d.int64("term", -1),
		ProtocolVersion: d.int64("protocolVersion", 1),
		Raw:             bson.Raw(d),
	}
	for _, m := range d.docs("members") {
		c.Members = append(c.Members, decodeConfigMember(m))
	}
	s, _ := d.doc("settings")
	c.Settings = ConfigSettings{
		ChainingAllowed:            s.bool("chainingAllowed", true),
		HeartbeatIntervalMillis:    s.int64("heartbeatIntervalMillis", DefaultHeartbeatIntervalMillis),
		HeartbeatTimeoutSecs:       s.int64("heartbeatTimeoutSecs", DefaultHeartbeatTimeoutSecs),
		ElectionTimeoutMillis:      s.int64("electionTimeoutMillis", DefaultElectionTimeoutMillis),
		CatchUpTimeoutMillis:       s.int64("catchUpTimeoutMillis", DefaultCatchUpTimeoutMillis),
		CatchUpTakeoverDelayMillis: s.int64("catchUpTakeoverDelayMillis", DefaultCatchUpTakeoverDelayMillis),
	}
	if v, ok := s.val("replicaSetId"); ok {
		if oid, ok := v.ObjectIDOK(); ok {
			c.Settings.ReplicaSetID = oid.Hex()
		}
	}
	return c
}

func decodeConfigMember(m rdoc) ConfigMember {
	arbiter := m.bool("arbiterOnly", false)
	defPriority := 1.0
	if arbiter {
		defPriority = 0 // mongod rewrites an arbiter's default priority (spec §4.2)
	}
	return ConfigMember{
		ID:                 m.int("_id", -1),
		Host:               m.str("host"),
		ArbiterOnly:        arbiter,
		BuildIndexes:       m.bool("buildIndexes", true),
		Hidden:             m.bool("hidden", false),
		Priority:           m.float("priority", defPriority),
		Votes:              m.int("votes", 1),
		Tags:               m.tags("tags"),
		SecondaryDelaySecs: max(m.int64("secondaryDelaySecs", 0), m.int64("slaveDelay", 0)),
		NewlyAdded:         m.bool("newlyAdded", false),
	}
}
