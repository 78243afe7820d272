package mongo

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Bumped returns the configuration to send with replSetReconfig: c's edits applied to c.Raw and
// the version raised by one. Only the fields c changed relative to c.Raw are rewritten; every other
// field keeps its value, BSON type and position, so settings and member options this package does
// not model are not lost. Members are matched to c.Raw's by _id; members absent from c are removed;
// new members are written in full. Term is left as read: mongod ignores the submitted term and
// stamps its own (spec §4.5).
func (c ReplConfig) Bumped() (ReplConfig, error) {
	if c.Version >= math.MaxInt32 {
		return ReplConfig{}, fmt.Errorf("mongo: config version %d cannot be bumped", c.Version)
	}
	orig := DecodeConfig(c.Raw)
	origDoc := rdoc(orig.Raw)

	top := []field{{"version", versionValue(c.Version + 1)}}
	if c.ID != orig.ID {
		top = append(top, field{"_id", c.ID})
	}
	if c.Term != orig.Term {
		top = append(top, field{"term", c.Term})
	}
	if c.ProtocolVersion != orig.ProtocolVersion {
		top = append(top, field{"protocolVersion", c.ProtocolVersion})
	}

	rawMembers := map[int]rdoc{}
	for _, m := range origDoc.docs("members") {
		rawMembers[m.int("_id", -1)] = m
	}
	members := make(bson.A, 0, len(c.Members))
	for _, m := range c.Members {
		if raw, ok := rawMembers[m.ID]; ok {
			members = append(members, patch(raw, memberChanges(raw, decodeConfigMember(raw), m)))
			continue
		}
		members = append(members, newMemberDoc(m))
	}
	top = append(top, field{"members", members})

	origSettings, _ := origDoc.doc("settings")
	if ch := settingsChanges(orig.Settings, c.Settings); len(ch) > 0 {
		top = append(top, field{"settings", patch(origSettings, ch)})
	}

	raw, err := bson.Marshal(patch(origDoc, top))
	if err != nil {
		return ReplConfig{}, fmt.Errorf("mongo: encode config: %w", err)
	}
	return DecodeConfig(raw), nil
}

type field struct {
	key string
	val any
}

// patch copies raw's elements in order, replacing those named in changes and appending the rest.
func patch(raw rdoc, changes []field) bson.D {
	var out bson.D
	done := make(map[string]bool, len(changes))
	if len(raw) > 0 {
		elems, _ := bson.Raw(raw).Elements()
		for _, e := range elems {
			k := e.Key()
			if i := slices.IndexFunc(changes, func(f field) bool { return f.key == k }); i >= 0 {
				out = append(out, bson.E{Key: k, Value: changes[i].val})
				done[k] = true
				continue
			}
			out = append(out, bson.E{Key: k, Value: e.Value()})
		}
	}
	for _, f := range changes {
		if !done[f.key] {
			out = append(out, bson.E{Key: f.key, Value: f.val})
		}
	}
	return out
}

// versionValue writes the version as an int, the type mongod uses (spec §4.1: 1 <= v < 2^31).
func versionValue(v int64) any {
	if v <= math.MaxInt32 {
		return int32(v)
	}
	return v
}

func memberChanges(raw rdoc, old, m ConfigMember) []field {
	var ch []field
	add := func(changed bool, key string, val any) {
		if changed {
			ch = append(ch, field{key, val})
		}
	}
	add(m.Host != old.Host, "host", m.Host)
	add(m.ArbiterOnly != old.ArbiterOnly, "arbiterOnly", m.ArbiterOnly)
	add(m.BuildIndexes != old.BuildIndexes, "buildIndexes", m.BuildIndexes)
	add(m.Hidden != old.Hidden, "hidden", m.Hidden)
	add(m.Priority != old.Priority, "priority", m.Priority)
	add(m.Votes != old.Votes, "votes", int32(m.Votes))
	add(!maps.Equal(m.Tags, old.Tags), "tags", tagsDoc(m.Tags))
	delayKey := "secondaryDelaySecs"
	if raw.has("slaveDelay") { // a pre-5.0 document: keep its spelling
		delayKey = "slaveDelay"
	}
	add(m.SecondaryDelaySecs != old.SecondaryDelaySecs, delayKey, m.SecondaryDelaySecs)
	return ch
}

func newMemberDoc(m ConfigMember) bson.D {
	d := bson.D{
		{Key: "_id", Value: int32(m.ID)},
		{Key: "host", Value: m.Host},
		{Key: "arbiterOnly", Value: m.ArbiterOnly},
		{Key: "buildIndexes", Value: m.BuildIndexes},
		{Key: "hidden", Value: m.Hidden},
		{Key: "priority", Value: m.Priority},
		{Key: "tags", Value: tagsDoc(m.Tags)},
		{Key: "secondaryDelaySecs", Value: m.SecondaryDelaySecs},
		{Key: "votes", Value: int32(m.Votes)},
	}
	return d
}

func tagsDoc(tags map[string]string) bson.D {
	d := bson.D{}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		d = append(d, bson.E{Key: k, Value: tags[k]})
	}
	return d
}

func settingsChanges(old, s ConfigSettings) []field {
	var ch []field
	add := func(changed bool, key string, val any) {
		if changed {
			ch = append(ch, field{key, val})
		}
	}
	add(s.ChainingAllowed != old.ChainingAllowed, "chainingAllowed", s.ChainingAllowed)
	add(s.HeartbeatIntervalMillis != old.HeartbeatIntervalMillis, "heartbeatIntervalMillis", s.HeartbeatIntervalMillis)
	add(s.HeartbeatTimeoutSecs != old.HeartbeatTimeoutSecs, "heartbeatTimeoutSecs", s.HeartbeatTimeoutSecs)
	add(s.ElectionTimeoutMillis != old.ElectionTimeoutMillis, "electionTimeoutMillis", s.ElectionTimeoutMillis)
	add(s.CatchUpTimeoutMillis != old.CatchUpTimeoutMillis, "catchUpTimeoutMillis", s.CatchUpTimeoutMillis)
	add(s.CatchUpTakeoverDelayMillis != old.CatchUpTakeoverDelayMillis, "catchUpTakeoverDelayMillis", s.CatchUpTakeoverDelayMillis)
	return ch
}
