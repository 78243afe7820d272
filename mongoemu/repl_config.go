package mongoemu

import (
	"net"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// memberConfig is one entry of config.members (spec §4.1).
type memberConfig struct {
	id                 int
	host               string
	arbiterOnly        bool
	buildIndexes       bool
	hidden             bool
	priority           float64
	tags               bson.D
	secondaryDelaySecs int64
	votes              int
}

func (m memberConfig) isVoter() bool     { return m.votes > 0 }
func (m memberConfig) isElectable() bool { return !m.arbiterOnly && m.priority > 0 }

type replSettings struct {
	chainingAllowed      bool
	heartbeatInterval    time.Duration
	heartbeatTimeout     time.Duration
	electionTimeout      time.Duration
	catchUpTimeout       time.Duration // < 0: no limit
	catchUpTakeoverDelay time.Duration // < 0: disabled
	replicaSetID         bson.ObjectID
	getLastErrorModes    bson.Raw
}

// replConfig is the replica-set configuration document (spec §4.1).
type replConfig struct {
	name              string
	version           int64
	term              int64 // -1 = uninitialized (force reconfig)
	wcMajorityJournal bool
	members           []memberConfig
	settings          replSettings
}

// Defaults equal mongod's (spec §0, repl_set_config.idl).
const (
	defaultHeartbeatInterval    = 2 * time.Second
	defaultHeartbeatTimeout     = 10 * time.Second
	defaultElectionTimeout      = 10 * time.Second
	defaultCatchUpTakeoverDelay = 30 * time.Second
	maxMembers                  = 50
	maxVotingMembers            = 7
)

func invalidConfig(format string, args ...any) error {
	return mongoerr.New(mongoerr.InvalidReplicaSetConfig, format, args...)
}

// parseReplConfig reads and validates a config document (spec §4.2, §4.3). Errors are
// InvalidReplicaSetConfig (93) with mongod's wording.
func parseReplConfig(doc bson.Raw) (*replConfig, error) {
	c := &replConfig{term: -1, wcMajorityJournal: true, settings: replSettings{
		chainingAllowed: true, heartbeatInterval: defaultHeartbeatInterval, heartbeatTimeout: defaultHeartbeatTimeout,
		electionTimeout: defaultElectionTimeout, catchUpTimeout: -1, catchUpTakeoverDelay: defaultCatchUpTakeoverDelay,
	}}
	elems, err := doc.Elements()
	if err != nil {
		return nil, invalidConfig("invalid config document: %v", err)
	}
	for _, e := range elems {
		v := e.Value()
		switch e.Key() {
		case "_id":
			s, ok := v.StringValueOK()
			if !ok {
				return nil, invalidConfig("BSON field 'replSetConfig._id' is the wrong type '%s', expected type 'string'", typeName(v.Type))
			}
			c.name = s
		case "version":
			n, ok := numberAsInt64(v)
			if !ok {
				return nil, invalidConfig("BSON field 'replSetConfig.version' is the wrong type '%s', expected type 'int'", typeName(v.Type))
			}
			c.version = n
		case "term":
			n, ok := numberAsInt64(v)
			if !ok {
				return nil, invalidConfig("BSON field 'replSetConfig.term' is the wrong type '%s', expected type 'long'", typeName(v.Type))
			}
			c.term = n
		case "protocolVersion":
			n, ok := numberAsInt64(v)
			if !ok || n != 1 {
				return nil, invalidConfig("Invalid protocol version: %s. Only protocolVersion: 1 is supported", v.String())
			}
		case "writeConcernMajorityJournalDefault":
			b, ok := v.BooleanOK()
			if !ok {
				return nil, invalidConfig("BSON field 'replSetConfig.writeConcernMajorityJournalDefault' is the wrong type '%s', expected type 'bool'", typeName(v.Type))
			}
			c.wcMajorityJournal = b
		case "members":
			arr, ok := v.ArrayOK()
			if !ok {
				return nil, invalidConfig("BSON field 'replSetConfig.members' is the wrong type '%s', expected type 'array'", typeName(v.Type))
			}
			vals, _ := arr.Values()
			for i, mv := range vals {
				md, ok := mv.DocumentOK()
				if !ok {
					return nil, invalidConfig("Expected type object for members.%d, found %s", i, typeName(mv.Type))
				}
				m, err := parseMemberConfig(md)
				if err != nil {
					return nil, err
				}
				c.members = append(c.members, m)
			}
		case "settings":
			sd, ok := v.DocumentOK()
			if !ok {
				return nil, invalidConfig("BSON field 'replSetConfig.settings' is the wrong type '%s', expected type 'object'", typeName(v.Type))
			}
			if err := c.settings.parse(sd); err != nil {
				return nil, err
			}
		case "configsvr":
			if b, _ := v.BooleanOK(); b {
				return nil, invalidConfig("configsvr replica sets are not supported by mongoemu")
			}
		default:
			return nil, invalidConfig("BSON field 'replSetConfig.%s' is an unknown field.", e.Key())
		}
	}
	if c.name == "" {
		return nil, invalidConfig("BSON field 'replSetConfig._id' is missing but a required field")
	}
	if c.members == nil {
		return nil, invalidConfig("BSON field 'replSetConfig.members' is missing but a required field")
	}
	return c, c.validate()
}

func parseMemberConfig(d bson.Raw) (memberConfig, error) {
	m := memberConfig{id: -1, buildIndexes: true, priority: 1, votes: 1}
	prioritySet := false
	elems, _ := d.Elements()
	for _, e := range elems {
		v := e.Value()
		switch e.Key() {
		case "_id":
			n, ok := numberAsInt64(v)
			if !ok || n < 0 {
				return m, invalidConfig("_id field value of %s is out of range.", v.String())
			}
			m.id = int(n)
		case "host":
			s, ok := v.StringValueOK()
			if !ok {
				return m, invalidConfig("BSON field 'host' is the wrong type '%s', expected type 'string'", typeName(v.Type))
			}
			if !strings.Contains(s, ":") {
				s += ":27017"
			}
			if _, _, err := net.SplitHostPort(s); err != nil {
				return m, invalidConfig("Invalid host %q: %v", s, err)
			}
			m.host = s
		case "arbiterOnly":
			m.arbiterOnly, _ = v.BooleanOK()
		case "buildIndexes":
			m.buildIndexes, _ = v.BooleanOK()
		case "hidden":
			m.hidden, _ = v.BooleanOK()
		case "priority":
			f, ok := numberAsFloat(v)
			if !ok || f < 0 || f > 1000 {
				return m, invalidConfig("priority field value of %s is out of range", v.String())
			}
			m.priority, prioritySet = f, true
		case "votes":
			n, ok := numberAsInt64(v)
			if !ok || n < 0 || n > 1 {
				return m, invalidConfig("votes field value is %s but must be 0 or 1", v.String())
			}
			m.votes = int(n)
		case "tags":
			td, ok := v.DocumentOK()
			if !ok {
				return m, invalidConfig("BSON field 'tags' is the wrong type, expected type 'object'")
			}
			tel, _ := td.Elements()
			for _, t := range tel {
				s, ok := t.Value().StringValueOK()
				if !ok {
					return m, invalidConfig("tags field value of %s must be a string", t.Key())
				}
				m.tags = append(m.tags, bson.E{Key: t.Key(), Value: s})
			}
		case "secondaryDelaySecs", "slaveDelay":
			n, ok := numberAsInt64(v)
			if !ok || n < 0 || n > 31622400 {
				return m, invalidConfig("secondaryDelaySecs field value of %s is out of range", v.String())
			}
			m.secondaryDelaySecs = n
		case "horizons", "newlyAdded":
		default:
			return m, invalidConfig("BSON field 'members.%s' is an unknown field.", e.Key())
		}
	}
	if m.id < 0 {
		return m, invalidConfig("BSON field '_id' is missing but a required field")
	}
	if m.host == "" {
		return m, invalidConfig("BSON field 'host' is missing but a required field")
	}
	if m.arbiterOnly {
		if prioritySet && m.priority != 0 {
			return m, invalidConfig("Member %s is an arbiter but has priority %v. Arbiter priority must be 0.", m.host, m.priority)
		}
		m.priority = 0
		if m.votes == 0 {
			return m, invalidConfig("Arbiter must vote (cannot have 0 votes)")
		}
	}
	if m.priority > 0 {
		switch {
		case m.votes == 0:
			return m, invalidConfig("priority must be 0 when non-voting (votes:0)")
		case m.secondaryDelaySecs > 0:
			return m, invalidConfig("priority must be 0 when secondaryDelaySecs is used")
		case m.hidden:
			return m, invalidConfig("priority must be 0 when hidden=true")
		case !m.buildIndexes:
			return m, invalidConfig("priority must be 0 when buildIndexes=false")
		}
	}
	return m, nil
}

func (s *replSettings) parse(d bson.Raw) error {
	elems, _ := d.Elements()
	ms := func(v bson.RawValue, key string, allowNeg bool) (time.Duration, error) {
		n, ok := numberAsInt64(v)
		if !ok || (!allowNeg && n <= 0) {
			return 0, invalidConfig("%s field value must be %s, but found %s", key, map[bool]string{true: "a number", false: "positive"}[allowNeg], v.String())
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	var err error
	for _, e := range elems {
		v := e.Value()
		switch e.Key() {
		case "chainingAllowed":
			s.chainingAllowed, _ = v.BooleanOK()
		case "heartbeatIntervalMillis":
			s.heartbeatInterval, err = ms(v, e.Key(), false)
		case "heartbeatTimeoutSecs":
			var d time.Duration
			d, err = ms(v, e.Key(), false)
			s.heartbeatTimeout = d * 1000
		case "electionTimeoutMillis":
			s.electionTimeout, err = ms(v, e.Key(), false)
		case "catchUpTimeoutMillis":
			s.catchUpTimeout, err = ms(v, e.Key(), true)
		case "catchUpTakeoverDelayMillis":
			s.catchUpTakeoverDelay, err = ms(v, e.Key(), true)
		case "replicaSetId":
			id, ok := v.ObjectIDOK()
			if !ok {
				return invalidConfig("replicaSetId must be an ObjectId")
			}
			s.replicaSetID = id
		case "getLastErrorModes":
			s.getLastErrorModes, _ = v.DocumentOK()
		case "getLastErrorDefaults":
			gd, _ := v.DocumentOK()
			w := gd.Lookup("w")
			if n, ok := numberAsInt64(w); (w.Type != 0 && (!ok || n != 1)) || gd.Lookup("wtimeout").Type != 0 && !isZeroNumber(gd.Lookup("wtimeout")) {
				return mongoerr.New(5624102, "getLastErrorDefaults must be {w: 1, wtimeout: 0}")
			}
		default:
			return invalidConfig("BSON field 'settings.%s' is an unknown field.", e.Key())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func isZeroNumber(v bson.RawValue) bool {
	f, ok := numberAsFloat(v)
	return ok && f == 0
}

// validate applies the whole-config rules of spec §4.3.
func (c *replConfig) validate() error {
	if c.version < 1 || c.version >= 1<<31 {
		return invalidConfig("version field value of %d is out of range", c.version)
	}
	if n := len(c.members); n < 1 || n > maxMembers {
		return invalidConfig("Replica set configuration contains %d members, but must have at least 1 and no more than  %d", n, maxMembers)
	}
	voters, electable, local := 0, 0, 0
	for i, m := range c.members {
		for j := 0; j < i; j++ {
			if c.members[j].id == m.id {
				return invalidConfig("Found two member configurations with same _id field, members.%d._id == members.%d._id == %d", j, i, m.id)
			}
			if c.members[j].host == m.host {
				return invalidConfig("Found two member configurations with same host field, members.%d.host == members.%d.host == %s", j, i, m.host)
			}
		}
		if m.isVoter() {
			voters++
		}
		if m.isElectable() {
			electable++
		}
		if isLocalhost(m.host) {
			local++
		}
	}
	if local != 0 && local != len(c.members) {
		return invalidConfig("Either all host names in a replica set configuration must be localhost references, or none must be; found %d out of %d", local, len(c.members))
	}
	if voters < 1 || voters > maxVotingMembers {
		return invalidConfig("Replica set configuration contains %d voting members, but must be at least 1 and no more than %d", voters, maxVotingMembers)
	}
	if electable == 0 {
		return invalidConfig("Replica set configuration must contain at least one non-arbiter member with priority > 0")
	}
	return nil
}

func isLocalhost(hostPort string) bool {
	h, _, _ := net.SplitHostPort(hostPort)
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// Majorities (spec §4.3 _calculateMajorities).
func (c *replConfig) votingCount() int {
	n := 0
	for _, m := range c.members {
		if m.isVoter() {
			n++
		}
	}
	return n
}

func (c *replConfig) arbiterVoters() int {
	n := 0
	for _, m := range c.members {
		if m.isVoter() && m.arbiterOnly {
			n++
		}
	}
	return n
}

func (c *replConfig) majorityVoteCount() int { return c.votingCount()/2 + 1 }

func (c *replConfig) writableVotingCount() int { return c.votingCount() - c.arbiterVoters() }

func (c *replConfig) writeMajority() int {
	return min(c.majorityVoteCount(), c.writableVotingCount())
}

func (c *replConfig) indexOfHost(host string) int {
	for i, m := range c.members {
		if m.host == host {
			return i
		}
	}
	return -1
}

func (c *replConfig) indexOfID(id int) int {
	for i, m := range c.members {
		if m.id == id {
			return i
		}
	}
	return -1
}

// newerThan orders configs: term first, then version; a -1 term compares versions only (§4.5).
func (c *replConfig) newerThan(version, term int64) bool {
	if c.term == -1 || term == -1 {
		return c.version > version
	}
	if c.term != term {
		return c.term > term
	}
	return c.version > version
}

// doc renders the config as replSetGetConfig shows it and as it is stored.
func (c *replConfig) doc() bson.D {
	members := bson.A{}
	for _, m := range c.members {
		tags := m.tags
		if tags == nil {
			tags = bson.D{}
		}
		members = append(members, bson.D{
			{Key: "_id", Value: int32(m.id)}, {Key: "host", Value: m.host},
			{Key: "arbiterOnly", Value: m.arbiterOnly}, {Key: "buildIndexes", Value: m.buildIndexes},
			{Key: "hidden", Value: m.hidden}, {Key: "priority", Value: m.priority}, {Key: "tags", Value: tags},
			{Key: "secondaryDelaySecs", Value: m.secondaryDelaySecs}, {Key: "votes", Value: int32(m.votes)},
		})
	}
	s := c.settings
	settings := bson.D{
		{Key: "chainingAllowed", Value: s.chainingAllowed},
		{Key: "heartbeatIntervalMillis", Value: s.heartbeatInterval.Milliseconds()},
		{Key: "heartbeatTimeoutSecs", Value: int32(s.heartbeatTimeout / time.Second)},
		{Key: "electionTimeoutMillis", Value: s.electionTimeout.Milliseconds()},
		{Key: "catchUpTimeoutMillis", Value: durMillisOrNeg(s.catchUpTimeout)},
		{Key: "catchUpTakeoverDelayMillis", Value: durMillisOrNeg(s.catchUpTakeoverDelay)},
		{Key: "getLastErrorModes", Value: orEmpty(s.getLastErrorModes)},
		{Key: "getLastErrorDefaults", Value: bson.D{{Key: "w", Value: int32(1)}, {Key: "wtimeout", Value: int32(0)}}},
		{Key: "replicaSetId", Value: s.replicaSetID},
	}
	d := bson.D{{Key: "_id", Value: c.name}, {Key: "version", Value: int32(c.version)}}
	if c.term != -1 {
		d = append(d, bson.E{Key: "term", Value: c.term})
	}
	return append(d,
		bson.E{Key: "protocolVersion", Value: int64(1)},
		bson.E{Key: "writeConcernMajorityJournalDefault", Value: c.wcMajorityJournal},
		bson.E{Key: "members", Value: members},
		bson.E{Key: "settings", Value: settings},
	)
}

func durMillisOrNeg(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return d.Milliseconds()
}

func orEmpty(r bson.Raw) any {
	if r == nil {
		return bson.D{}
	}
	return r
}

func (c *replConfig) raw() bson.Raw {
	b, _ := bson.Marshal(c.doc())
	return b
}
