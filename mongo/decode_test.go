package mongo

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/topology"
)

// fixture reads testdata/name as relaxed extended JSON, so numbers keep the BSON types written
// (1 is int32, 1.0 double, {"$numberLong"} int64) exactly as the spec's examples show them.
func fixture(t *testing.T, name string) bson.Raw {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var raw bson.Raw
	if err := bson.UnmarshalExtJSON(b, false, &raw); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return raw
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestDecodeHelloPrimary(t *testing.T) {
	h := DecodeHello(fixture(t, "hello_primary.json"))
	if h.SetName != "rs0" || h.SetVersion != 3 || !h.IsWritablePrimary || h.Secondary {
		t.Errorf("set fields: %+v", h)
	}
	if h.Me != "n1:27017" || h.Primary != "n1:27017" || len(h.Hosts) != 3 {
		t.Errorf("hosts: me %q primary %q hosts %v", h.Me, h.Primary, h.Hosts)
	}
	if h.ElectionID != "7fffffff0000000000000002" || h.ElectionTerm != 2 {
		t.Errorf("electionId %q term %d", h.ElectionID, h.ElectionTerm)
	}
	if want := topology.MakeOpTime(1717000000, 1, 2); h.LastWrite.OpTime != want || h.LastWrite.MajorityOpTime != want {
		t.Errorf("lastWrite %v / %v, want %v", h.LastWrite.OpTime, h.LastWrite.MajorityOpTime, want)
	}
	if !h.LastWrite.Date.Equal(mustTime(t, "2024-05-29T16:26:40Z")) {
		t.Errorf("lastWriteDate %v", h.LastWrite.Date)
	}
	if h.TopologyVersion != (TopologyVersion{ProcessID: "6650c6f2a3b1c2d3e4f50617", Counter: 6}) {
		t.Errorf("topologyVersion %+v", h.TopologyVersion)
	}
	if h.MaxWireVersion != 21 || h.State() != topology.StatePrimary {
		t.Errorf("wire %d state %v", h.MaxWireVersion, h.State())
	}
}

func TestDecodeHelloLegacySecondary(t *testing.T) {
	h := DecodeHello(fixture(t, "hello_secondary_legacy.json"))
	if h.IsWritablePrimary || !h.Secondary || !h.Passive || h.State() != topology.StateSecondary {
		t.Errorf("roles: %+v", h)
	}
	if h.Tags["dc"] != "east" || !slices.Equal(h.Passives, []string{"n3:27017"}) {
		t.Errorf("tags %v passives %v", h.Tags, h.Passives)
	}
	if h.ElectionID != "" || h.ElectionTerm != 0 {
		t.Errorf("a secondary has no electionId: %q", h.ElectionID)
	}
}

func TestDecodeHelloWithoutConfig(t *testing.T) {
	h := DecodeHello(fixture(t, "hello_uninitialized.json"))
	if !h.IsReplicaSet || h.SetName != "" || h.State() != topology.StateStartup {
		t.Errorf("uninitialized: %+v state %v", h, h.State())
	}
	if !h.LastWrite.OpTime.IsNull() {
		t.Errorf("no lastWrite should read as null, got %v", h.LastWrite.OpTime)
	}
	h.SetName = "rs0" // REMOVED keeps setName (spec §2.1)
	if h.State() != topology.StateRemoved {
		t.Errorf("removed: %v", h.State())
	}
}

func TestElectionTerm(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		term int64
		ok   bool
	}{
		{"7fffffff0000000000000008", 8, true}, // the spec's real example
		{"7fffffff0000000000000000", 0, true},
		{"7fffffff00000001000000ff", 1<<32 + 255, true},
		{"6650c6f2a3b1c2d3e4f50617", 0, false}, // protocol version 0: a plain ObjectId
		{"7fffffff8000000000000000", 0, false}, // would overflow int64
	} {
		oid, err := bson.ObjectIDFromHex(tc.hex)
		if err != nil {
			t.Fatal(err)
		}
		term, ok := ElectionTerm(oid)
		if term != tc.term || ok != tc.ok {
			t.Errorf("%s: got (%d, %v), want (%d, %v)", tc.hex, term, ok, tc.term, tc.ok)
		}
		if tc.ok && bson.ObjectID(ElectionIDForTerm(tc.term)).Hex() != tc.hex {
			t.Errorf("ElectionIDForTerm(%d) = %x", tc.term, ElectionIDForTerm(tc.term))
		}
	}
}

func TestDecodeStatusPrimaryWithDownMember(t *testing.T) {
	s := DecodeStatus(fixture(t, "status_primary.json"))
	if s.Set != "rs0" || s.MyState != topology.StatePrimary || s.Term != 2 || s.TooStale {
		t.Errorf("top: %+v", s)
	}
	if s.SyncSource != "" || s.SyncSourceID != -1 || s.HeartbeatInterval != 2*time.Second {
		t.Errorf("sync %q/%d hb %v", s.SyncSource, s.SyncSourceID, s.HeartbeatInterval)
	}
	if s.MajorityVoteCount != 2 || s.WriteMajorityCount != 2 || s.VotingMembersCount != 3 {
		t.Errorf("vote counts %+v", s)
	}
	if want := topology.MakeOpTime(1717000004, 1, 2); s.LastCommitted != want || s.Applied != want {
		t.Errorf("optimes %v %v", s.LastCommitted, s.Applied)
	}
	c := s.ElectionCandidate
	if c == nil || c.Reason != "electionTimeout" || c.Term != 2 || c.NumVotesNeeded != 2 || c.PriorPrimaryMemberID != 1 {
		t.Fatalf("candidate metrics %+v", c)
	}
	if !c.Date.Equal(mustTime(t, "2024-05-29T16:20:01Z")) {
		t.Errorf("lastElectionDate %v", c.Date)
	}
	if len(s.Members) != 3 {
		t.Fatalf("members: %d", len(s.Members))
	}
	self, ok := s.Self()
	if !ok || self.Name != "n1:27017" || !self.Healthy() || self.ConfigVersion != 3 || self.ConfigTerm != 2 {
		t.Errorf("self %+v", self)
	}
	if !self.ElectionTime.Equal(mustTime(t, "2024-05-29T16:20:01Z")) || self.Uptime != 900*time.Second {
		t.Errorf("self election %v uptime %v", self.ElectionTime, self.Uptime)
	}
	down, _ := s.Member("n3:27017")
	if down.Healthy() || down.State != topology.StateDown || down.ConfigVersion != -1 {
		t.Errorf("down member %+v", down)
	}
	if down.OpTime != topology.NullOpTime || !down.OpTimeDate.IsZero() || !down.LastHeartbeatRecv.IsZero() {
		t.Errorf("null optime and epoch dates: %v %v %v", down.OpTime, down.OpTimeDate, down.LastHeartbeatRecv)
	}
	if down.LastHeartbeatMessage == "" || down.LastHeartbeat.IsZero() {
		t.Errorf("down member keeps heartbeat details: %+v", down)
	}
	if p, ok := s.PrimaryMember(); !ok || p.Name != "n1:27017" {
		t.Errorf("primary member %v %v", p.Name, ok)
	}
}

// The same fields with int32, int64 and double swapped around, as different server versions send
// them; bools as numbers; a null optime on an arbiter.
func TestDecodeStatusLenientNumbers(t *testing.T) {
	s := DecodeStatus(fixture(t, "status_secondary_lenient.json"))
	if s.MyState != topology.StateSecondary || s.Term != 7 || s.SyncSourceID != 0 || s.WriteMajorityCount != 2 {
		t.Errorf("top: %+v", s)
	}
	if s.Applied != topology.MakeOpTime(1717000012, 1, 7) || s.LastCommitted != topology.MakeOpTime(1717000010, 3, 7) {
		t.Errorf("optimes %v %v", s.Applied, s.LastCommitted)
	}
	if p := s.ElectionParticipant; p == nil || !p.VotedForCandidate || p.Term != 7 || p.CandidateMemberID != 0 {
		t.Errorf("participant %+v", s.ElectionParticipant)
	}
	prim := s.Members[0]
	if prim.ID != 0 || prim.State != topology.StatePrimary || !prim.Healthy() || prim.ConfigVersion != 5 ||
		prim.ConfigTerm != 7 || prim.PingMs != 3 || prim.Uptime != 300*time.Second {
		t.Errorf("primary %+v", prim)
	}
	if !prim.ElectionTime.Equal(time.Unix(1717000000, 0)) {
		t.Errorf("electionTime from Timestamp: %v", prim.ElectionTime)
	}
	self, ok := s.Self()
	if !ok || self.Name != "n2:27017" {
		t.Errorf("self: 1 reads as true: %+v", self)
	}
	arb := s.Members[2]
	if arb.State != topology.StateArbiter || arb.OpTime != topology.NullOpTime || arb.PingMs != 1 {
		t.Errorf("arbiter %+v", arb)
	}
}

func TestDecodeStatusInitialSync(t *testing.T) {
	s := DecodeStatus(fixture(t, "status_startup2.json"))
	if s.MyState != topology.StateStartup2 || !s.Applied.IsNull() || s.Applied.Term != -1 {
		t.Errorf("top: state %v applied %v", s.MyState, s.Applied)
	}
	is := s.InitialSync
	if is == nil {
		t.Fatal("no initial sync status")
	}
	want := InitialSyncStatus{
		Method: "logical", FailedAttempts: 1, MaxFailedAttempts: 10,
		Start: mustTime(t, "2024-05-29T16:20:00Z"), Elapsed: 405 * time.Second,
		RemainingEstimated: 20 * time.Minute, ApproxTotalDataSize: 1000000,
		ApproxTotalBytesCopied: 250000, AppliedOps: 25, DatabasesCloned: 2,
	}
	if *is != want {
		t.Errorf("initial sync\n got %+v\nwant %+v", *is, want)
	}
}

func TestDecodeEmptyAndGarbage(t *testing.T) {
	// Nothing must panic on missing or odd fields; a reply of the wrong shape reads as zeros.
	raw, _ := bson.Marshal(bson.D{{Key: "members", Value: "not an array"}, {Key: "term", Value: "x"},
		{Key: "optimes", Value: 5}, {Key: "myState", Value: bson.Null{}}})
	s := DecodeStatus(raw)
	if len(s.Members) != 0 || s.Term != 0 || s.MyState != topology.StateUnknown || s.Applied != topology.NullOpTime {
		t.Errorf("garbage status: %+v", s)
	}
	_ = DecodeHello(nil)
	_ = DecodeConfig(nil)
}

// Decoders see whatever a server (or an emulator bug) sends: they must never panic.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"hello_primary.json", "status_primary.json", "status_secondary_lenient.json",
		"status_startup2.json", "config.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		var raw bson.Raw
		if err := bson.UnmarshalExtJSON(b, false, &raw); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if bson.Raw(b).Validate() != nil {
			return
		}
		_ = DecodeHello(b)
		_ = DecodeStatus(b)
		c := DecodeConfig(b)
		if c.Version < 1<<31-1 {
			if _, err := c.Bumped(); err != nil && c.Version >= 0 {
				t.Logf("bump: %v", err)
			}
		}
	})
}
