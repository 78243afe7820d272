package mongo

import (
	"bytes"
	"math"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestDecodeConfig(t *testing.T) {
	c := DecodeConfig(fixture(t, "config.json"))
	if c.ID != "rs0" || c.Version != 5 || c.Term != 7 || c.ProtocolVersion != 1 || len(c.Members) != 4 {
		t.Fatalf("top: %+v", c)
	}
	n1, _ := c.Member("n1:27017")
	if n1.Priority != 2 || n1.Votes != 1 || n1.Tags["dc"] != "east" || !n1.BuildIndexes || !n1.Electable() {
		t.Errorf("n1 %+v", n1)
	}
	arb, _ := c.MemberByID(2)
	if !arb.ArbiterOnly || arb.Priority != 0 || !arb.Voter() || arb.Electable() {
		t.Errorf("arbiter %+v", arb)
	}
	n4, _ := c.Member("n4:27017")
	if !n4.Hidden || n4.Priority != 0 || n4.Votes != 1 || !n4.BuildIndexes || n4.ArbiterOnly {
		t.Errorf("defaults for absent member fields: %+v", n4)
	}
	want := ConfigSettings{ChainingAllowed: true, HeartbeatIntervalMillis: 2000, HeartbeatTimeoutSecs: 10,
		ElectionTimeoutMillis: 10000, CatchUpTimeoutMillis: -1, CatchUpTakeoverDelayMillis: 30000,
		ReplicaSetID: "6650c6f2a3b1c2d3e4f50600"}
	if c.Settings != want {
		t.Errorf("settings\n got %+v\nwant %+v", c.Settings, want)
	}
	if c.Voters() != 4 {
		t.Errorf("voters %d", c.Voters())
	}
	// A bare document (no "config" wrapper) and absent settings read with mongod's defaults.
	raw, _ := bson.Marshal(bson.D{{Key: "_id", Value: "rs1"}, {Key: "version", Value: 1.0},
		{Key: "members", Value: bson.A{bson.D{{Key: "_id", Value: 0}, {Key: "host", Value: "a:1"}}}}})
	b := DecodeConfig(raw)
	if b.ID != "rs1" || b.Version != 1 || b.Term != -1 || b.Settings.ElectionTimeoutMillis != DefaultElectionTimeoutMillis ||
		!b.Settings.ChainingAllowed || b.Members[0].Priority != 1 {
		t.Errorf("bare config %+v", b)
	}
}

// Without edits only the version changes: every other byte of the document is kept.
func TestBumpedKeepsDocument(t *testing.T) {
	c := DecodeConfig(fixture(t, "config.json"))
	next, err := c.Bumped()
	if err != nil {
		t.Fatal(err)
	}
	if next.Version != 6 {
		t.Fatalf("version %d", next.Version)
	}
	if next.Raw.Lookup("version").Type != bson.TypeInt32 {
		t.Errorf("version type %v", next.Raw.Lookup("version").Type)
	}
	old, _ := c.Raw.Elements()
	cur, _ := next.Raw.Elements()
	if len(old) != len(cur) {
		t.Fatalf("elements %d -> %d", len(old), len(cur))
	}
	for i := range old {
		if old[i].Key() == "version" {
			continue
		}
		if !bytes.Equal(old[i], cur[i]) {
			t.Errorf("element %q changed:\n%s\n%s", old[i].Key(), old[i], cur[i])
		}
	}
}

func TestBumpedAppliesEditsAndKeepsUnknownFields(t *testing.T) {
	c := DecodeConfig(fixture(t, "config.json")).Clone()
	c.Members[1].Priority = 3
	c.Members[0].Tags["rack"] = "r1"
	c.Members = append(c.Members[:3], NewConfigMember(5, "n5:27017")) // drop n4, add n5
	c.Settings.ElectionTimeoutMillis = 5000
	next, err := c.Bumped()
	if err != nil {
		t.Fatal(err)
	}
	d := DecodeConfig(next.Raw)
	if d.Version != 6 || len(d.Members) != 4 || d.Settings.ElectionTimeoutMillis != 5000 {
		t.Fatalf("decoded %+v", d)
	}
	if m, _ := d.Member("n2:27017"); m.Priority != 3 {
		t.Errorf("priority not applied: %+v", m)
	}
	if m, _ := d.Member("n1:27017"); m.Tags["rack"] != "r1" || m.Tags["dc"] != "east" {
		t.Errorf("tags not applied: %+v", m)
	}
	if _, ok := d.Member("n4:27017"); ok {
		t.Error("n4 not removed")
	}
	if m, ok := d.Member("n5:27017"); !ok || m.Votes != 1 || m.Priority != 1 || !m.BuildIndexes {
		t.Errorf("n5 %+v", m)
	}
	r := next.Raw
	for _, path := range [][]string{
		{"futureTopLevel", "x"},
		{"settings", "getLastErrorModes", "twoDCs", "dc"},
		{"settings", "replicaSetId"},
		{"writeConcernMajorityJournalDefault"},
	} {
		if _, err := r.LookupErr(path...); err != nil {
			t.Errorf("%v lost: %v", path, err)
		}
	}
	members, _ := r.Lookup("members").Array().Values()
	if h := members[0].Document().Lookup("horizons", "external").StringValue(); h != "n1.example.com:27017" {
		t.Errorf("horizons lost: %q", h)
	}
	if typ := r.Lookup("term").Type; typ != bson.TypeInt64 {
		t.Errorf("term type changed to %v", typ)
	}
	// The original is untouched by edits to the clone.
	orig := DecodeConfig(fixture(t, "config.json"))
	if m, _ := orig.Member("n1:27017"); m.Tags["rack"] != "" {
		t.Error("Clone shares tags")
	}
}

func TestBumpedKeepsLegacySlaveDelay(t *testing.T) {
	raw, _ := bson.Marshal(bson.D{{Key: "_id", Value: "rs"}, {Key: "version", Value: int32(2)},
		{Key: "members", Value: bson.A{bson.D{{Key: "_id", Value: 0}, {Key: "host", Value: "a:1"},
			{Key: "priority", Value: 0}, {Key: "slaveDelay", Value: int32(0)}}}}})
	c := DecodeConfig(raw)
	c.Members[0].SecondaryDelaySecs = 60
	next, err := c.Bumped()
	if err != nil {
		t.Fatal(err)
	}
	vals, _ := next.Raw.Lookup("members").Array().Values()
	m := vals[0].Document()
	if _, err := m.LookupErr("secondaryDelaySecs"); err == nil || m.Lookup("slaveDelay").AsInt64() != 60 {
		t.Errorf("pre-5.0 spelling not kept: %s", m)
	}
}

func TestBumpedRefusesOverflow(t *testing.T) {
	c := ReplConfig{ID: "rs", Version: math.MaxInt32}
	if _, err := c.Bumped(); err == nil {
		t.Error("want an error")
	}
}
