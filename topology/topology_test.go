package topology

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestMemberStateNames(t *testing.T) {
	for s := StateStartup; s <= StateRemoved; s++ {
		got, err := ParseMemberState(s.String())
		if err != nil || got != s {
			t.Errorf("ParseMemberState(%q) = %v, %v", s.String(), got, err)
		}
	}
	if StateDown.String() != "DOWN" || MemberState(42).String() != "MemberState(42)" {
		t.Errorf("names: %v %v", StateDown, MemberState(42))
	}
	var s MemberState
	if err := json.Unmarshal([]byte(`"ROLLBACK"`), &s); err != nil || s != StateRollback {
		t.Errorf("unmarshal name: %v %v", s, err)
	}
	if err := json.Unmarshal([]byte(`7`), &s); err != nil || s != StateArbiter {
		t.Errorf("unmarshal number: %v %v", s, err)
	}
	if err := json.Unmarshal([]byte(`"LEADER"`), &s); err == nil {
		t.Error("unknown name accepted")
	}
}

func TestOpTimeCompare(t *testing.T) {
	a := MakeOpTime(100, 5, 2)
	tests := []struct {
		b    OpTime
		want int
	}{
		{MakeOpTime(100, 5, 2), 0},
		{MakeOpTime(100, 6, 2), -1},
		{MakeOpTime(99, 9, 2), 1},
		{MakeOpTime(50, 0, 3), -1}, // newer term wins despite an older timestamp (spec §5.1)
		{MakeOpTime(500, 0, 1), 1},
	}
	for _, tt := range tests {
		if got := a.Compare(tt.b); got != tt.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", a, tt.b, got, tt.want)
		}
	}
	if a.Secs() != 100 || a.Inc() != 5 || !a.After(MakeOpTime(100, 4, 2)) {
		t.Errorf("accessors: %v", a)
	}
	if got := MakeOpTime(90, 0, 2).LagBehind(a); got != 10*time.Second {
		t.Errorf("lag = %v", got)
	}
	if got := a.LagBehind(MakeOpTime(90, 0, 2)); got != 0 {
		t.Errorf("lag ahead = %v", got)
	}
}

func TestMemberViewJSONRoundTrip(t *testing.T) {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	v := MemberView{
		SidecarID: "a", Mode: ModeData, Zone: "z1", ObservedAt: at,
		Local: LocalView{Host: "h1:27017", Reachable: true, State: StatePrimary, Term: 3,
			OpTime: MakeOpTime(1000, 2, 3), Priority: 0, Votes: 1, Tags: map[string]string{"dc": "x"}},
		Probe:   WriteProbe{Target: "h1:27017", LastLatency: 3 * time.Millisecond, LastOK: at},
		Peers:   []PeerSeen{{Host: "h2:27017", State: StateSecondary, Healthy: true, OpTime: MakeOpTime(999, 0, 3)}},
		Primary: PrimarySeen{Host: "h1:27017", Term: 3, ElectionTerm: 3, Reachable: true},
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var got MemberView
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Errorf("round trip:\n got %+v\nwant %+v\njson %s", got, v, b)
	}
	arb, _ := json.Marshal(MemberView{SidecarID: "c", Mode: ModeArbiter, ObservedAt: at})
	if want := `{"id":"c","mode":"arbiter","at":"2025-01-01T00:00:00Z"}`; string(arb) != want {
		t.Errorf("arbiter view = %s, want %s", arb, want)
	}
}

func TestQuorumAndCoordinator(t *testing.T) {
	snap := Snapshot{
		Self:    "b",
		MaxAge:  5 * time.Second,
		Members: []SidecarConfig{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}, {ID: "e", Mode: ModeArbiter}},
		Views: map[string]ViewWithAge{
			"a": {Alive: false},
			"b": {Alive: true},
			"c": {Alive: true, Age: time.Second},
			"d": {Alive: true, Age: 10 * time.Second}, // stale
			"x": {Alive: true},                        // not configured
		},
	}
	if got := snap.VisibleSidecars(); !reflect.DeepEqual(got, []string{"b", "c"}) {
		t.Errorf("visible = %v", got)
	}
	if snap.HasQuorum() || snap.Coordinator() != "" {
		t.Errorf("2 of 5 must not be a quorum")
	}
	snap.Views["e"] = ViewWithAge{Alive: true}
	if !snap.HasQuorum() || snap.Coordinator() != "b" || !snap.IsCoordinator() {
		t.Errorf("3 of 5: quorum %v coordinator %q", snap.HasQuorum(), snap.Coordinator())
	}
	// A sidecar that says it is not ready still counts for quorum but never coordinates.
	snap.Views["b"] = ViewWithAge{Alive: true, View: MemberView{NotReady: true}}
	if !snap.HasQuorum() || snap.Coordinator() != "c" || snap.IsCoordinator() {
		t.Errorf("not-ready b: quorum %v coordinator %q", snap.HasQuorum(), snap.Coordinator())
	}
}

func TestReaches(t *testing.T) {
	v := MemberView{
		Local:   LocalView{Host: "h1", Reachable: false},
		Primary: PrimarySeen{Host: "h2", Reachable: true},
		Peers:   []PeerSeen{{Host: "h3", Healthy: false}, {Host: "h2", Healthy: false}},
	}
	for host, want := range map[string]Reach{"h1": ReachNo, "h2": ReachYes, "h3": ReachNo, "h4": ReachUnknown} {
		if got := v.Reaches(host); got != want {
			t.Errorf("Reaches(%s) = %v, want %v", host, got, want)
		}
	}
}
