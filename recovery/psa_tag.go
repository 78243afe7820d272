package recovery

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rsguard/rsguard/mongo"
)

// PSADemotedTag is the member tag that records what a member had before rsguard demoted it, e.g.
// {"rsguard_psa_demoted": "votes=1,priority=1"}.
//
// Why a tag in the replica set's own config, and not a map handed in by the caller or a record
// in the sidecars' shared memory:
//   - the record and the demotion are written by the same reconfig: there is no moment when
//     the set is demoted and nobody remembers what to restore, or the other way round;
//   - every sidecar reads it from replSetGetConfig, so a coordinator change, a sidecar restart
//     or a lost disk forgets nothing, with no gossip or persistence of ours (DESIGN.md
//     principle 3: the replica set itself as the store);
//   - a DBA sees it in rs.conf(), and a non-voting member without it is someone else's choice,
//     which rsguard leaves alone.
//
// mongod accepts any string tags on a data-bearing member (spec §4.1); arbiters are never tagged
// (older servers refuse tags on arbiters, spec §4.2). Tags show in hello and count for
// read-preference tag sets and getLastErrorModes only when a client or mode names this key,
// which none does. The key has no dot: dotted names are paths to MongoDB's query and update
// language (local.system.replset, tag-set matching), so a plain word is the safe spelling.
const PSADemotedTag = "rsguard_psa_demoted"

// MemberSettings are the member options a PSA demotion changes and a restore brings back.
type MemberSettings struct {
	Votes    int     `json:"votes"`
	Priority float64 `json:"priority"`
}

// String is the tag value: "votes=1,priority=1".
func (s MemberSettings) String() string {
	return "votes=" + strconv.Itoa(s.Votes) + ",priority=" + strconv.FormatFloat(s.Priority, 'g', -1, 64)
}

// ParseMemberSettings reads a PSADemotedTag value. Both fields are required and must be values
// mongod accepts (spec §4.2): a value it cannot read is never restored.
func ParseMemberSettings(v string) (MemberSettings, error) {
	var s MemberSettings
	seen := map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || seen[key] {
			return MemberSettings{}, fmt.Errorf("recovery: tag %s=%q: want votes=<0|1>,priority=<0..1000>", PSADemotedTag, v)
		}
		seen[key] = true
		switch key {
		case "votes":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || n > 1 {
				return MemberSettings{}, fmt.Errorf("recovery: tag %s=%q: votes must be 0 or 1", PSADemotedTag, v)
			}
			s.Votes = n
		case "priority":
			p, err := strconv.ParseFloat(val, 64)
			if err != nil || p < 0 || p > 1000 {
				return MemberSettings{}, fmt.Errorf("recovery: tag %s=%q: priority must be in [0, 1000]", PSADemotedTag, v)
			}
			s.Priority = p
		default:
			return MemberSettings{}, fmt.Errorf("recovery: tag %s=%q: unknown field %q", PSADemotedTag, v, key)
		}
	}
	if !seen["votes"] || !seen["priority"] {
		return MemberSettings{}, fmt.Errorf("recovery: tag %s=%q: want both votes and priority", PSADemotedTag, v)
	}
	if s.Priority > 0 && s.Votes == 0 {
		return MemberSettings{}, fmt.Errorf("recovery: tag %s=%q: priority must be 0 when non-voting", PSADemotedTag, v)
	}
	return s, nil
}

// demotedSettings returns what the tag on m records; ok is false when m carries no tag.
func demotedSettings(m mongo.ConfigMember) (s MemberSettings, ok bool, err error) {
	v, ok := m.Tags[PSADemotedTag]
	if !ok {
		return MemberSettings{}, false, nil
	}
	if s, err = ParseMemberSettings(v); err == nil && s.Votes != 1 {
		err = fmt.Errorf("recovery: tag %s=%q on %s: rsguard demotes voters only", PSADemotedTag, v, m.Host)
	}
	return s, true, err
}

func hasTag(m mongo.ConfigMember) bool {
	_, ok := m.Tags[PSADemotedTag]
	return ok
}
