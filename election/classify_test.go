package election

import (
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/topology"
)

var t0 = time.Date(2025, 1, 1, 0, 10, 0, 0, time.UTC)

// fiveSet builds a five-sidecar set (a..e beside h1..h5) where h1 is primary in term 3 and every
// sidecar reaches it; tweak adjusts the views before the snapshot is assembled.
func fiveSet(self string, tweak func(v map[string]*topology.MemberView)) topology.Snapshot {
	ids := []string{"a", "b", "c", "d", "e"}
	snap := topology.Snapshot{Now: t0, SetName: "rs0", Self: self, MaxAge: 10 * time.Second, Views: map[string]topology.ViewWithAge{}}
	views := map[string]*topology.MemberView{}
	for i, id := range ids {
		host := "h" + string(rune('1'+i))
		snap.Members = append(snap.Members, topology.SidecarConfig{ID: id, Mode: topology.ModeData, Host: host})
		st := topology.StateSecondary
		if id == "a" {
			st = topology.StatePrimary
		}
		views[id] = &topology.MemberView{
			SidecarID: id, Mode: topology.ModeData, ObservedAt: t0.Add(-time.Second),
			Local:   topology.LocalView{Host: host, Reachable: true, State: st, Term: 3, OpTime: topology.MakeOpTime(1000, 1, 3), Priority: 1, Votes: 1},
			Primary: topology.PrimarySeen{Host: "h1", Term: 3, Reachable: true},
		}
	}
	if tweak != nil {
		tweak(views)
	}
	for id, v := range views {
		snap.Views[id] = topology.ViewWithAge{View: *v, Age: snap.Now.Sub(v.ObservedAt), Alive: true}
	}
	return snap
}

func lose(ids ...string) func(map[string]*topology.MemberView) {
	return func(v map[string]*topology.MemberView) {
		for _, id := range ids {
			if id == "a" {
				v[id].Local.Reachable, v[id].Local.Failure = false, topology.FailureRefused
			}
			v[id].Primary.Reachable = false
		}
	}
}

func TestClassifyEdgeCases(t *testing.T) {
	pol := DefaultPolicy()
	tests := []struct {
		name  string
		snap  topology.Snapshot
		want  Kind
		prim  string
		check func(t *testing.T, a Analysis)
	}{
		{name: "healthy", snap: fiveSet("a", nil), want: Healthy, prim: "h1"},
		{name: "dead needs a majority: own sidecar + 1 of 5", snap: fiveSet("a", lose("a", "b")), want: PrimaryUnreachableUncorroborated},
		{name: "dead with own sidecar + 2 of 5", snap: fiveSet("a", lose("a", "b", "c")), want: PrimaryUnreachableUncorroborated},
		{name: "dead: all five lost it", snap: fiveSet("b", lose("a", "b", "c", "d", "e")), want: PrimaryProcessDead, prim: "h1"},
		{name: "own sidecar reaches it: partition, not death",
			snap: fiveSet("b", lose("b", "c", "d", "e")), want: PrimaryUnreachableUncorroborated},
		{name: "only me", snap: fiveSet("c", lose("c")), want: PrimaryUnreachableFromMeOnly},
		{name: "someone else only", snap: fiveSet("b", lose("c")), want: PrimaryUnreachableUncorroborated},
		{name: "host gone, three of five remain and agree",
			snap: func() topology.Snapshot {
				s := fiveSet("b", lose("a", "b", "c", "d", "e"))
				s.Views["a"] = topology.ViewWithAge{View: s.Views["a"].View, Alive: false}
				s.Views["e"] = topology.ViewWithAge{View: s.Views["e"].View, Alive: true, Age: time.Minute} // stale
				return s
			}(), want: PrimaryHostUnreachable},
		{name: "host gone, only two of five visible", snap: func() topology.Snapshot {
			s := fiveSet("b", lose("a", "b", "c", "d", "e"))
			for _, id := range []string{"a", "d", "e"} {
				s.Views[id] = topology.ViewWithAge{View: s.Views[id].View, Alive: false}
			}
			return s
		}(), want: LostQuorum},
		{name: "recent term change with the primary lost", snap: fiveSet("b", func(v map[string]*topology.MemberView) {
			lose("a", "b", "c", "d", "e")(v)
			v["d"].Local.TermSince = t0.Add(-2 * time.Second)
		}), want: ElectionQuietPeriod},
		{name: "recent term change with a healthy primary is just a new primary",
			snap: fiveSet("b", func(v map[string]*topology.MemberView) { v["a"].Local.TermSince = t0.Add(-time.Second) }), want: Healthy},
		{name: "stale belief elsewhere does not resurrect a stepped-down primary",
			snap: fiveSet("b", func(v map[string]*topology.MemberView) {
				v["a"].Local.State = topology.StateSecondary
				v["b"].Local.State, v["b"].Local.Term = topology.StatePrimary, 4
				for _, id := range []string{"a", "b", "c"} {
					v[id].Primary = topology.PrimarySeen{Host: "h2", Term: 4, Reachable: true}
				}
			}), want: Healthy, prim: "h2"},
		{name: "two primaries in the same term are skew, never fenced",
			snap: fiveSet("b", func(v map[string]*topology.MemberView) {
				v["b"].Local.State = topology.StatePrimary
				v["b"].Local.TermSince = t0.Add(-time.Hour)
			}), want: SplitBrainSuspected},
		{name: "write stall seen only by the primary's own sidecar",
			snap: fiveSet("a", func(v map[string]*topology.MemberView) {
				v["a"].Local.LastWrite = t0.Add(-time.Minute)
			}), want: SickPrimaryUncorroborated},
		{name: "probe failures below the threshold are no witness",
			snap: fiveSet("a", func(v map[string]*topology.MemberView) {
				for _, id := range []string{"b", "c"} {
					v[id].JournalProbe = topology.WriteProbe{Target: "h1", ConsecutiveFails: 1, FailingSince: t0.Add(-time.Minute)}
				}
			}), want: Healthy},
		{name: "probes against an old primary are no witness",
			snap: fiveSet("a", func(v map[string]*topology.MemberView) {
				for _, id := range []string{"b", "c"} {
					v[id].JournalProbe = topology.WriteProbe{Target: "h9", ConsecutiveFails: 9, FailingSince: t0.Add(-time.Minute)}
				}
			}), want: Healthy},
		{name: "w:majority probes failing everywhere with w:1 fine: replication lag, not sickness",
			snap: fiveSet("a", func(v map[string]*topology.MemberView) {
				for id, mv := range v {
					mv.Probe = topology.WriteProbe{Target: "h1", ConsecutiveFails: 9, LastErr: "wtimeout", FailingSince: t0.Add(-time.Minute)}
					mv.JournalProbe = topology.WriteProbe{Target: "h1", LastOK: t0.Add(-time.Second), LastLatency: 2 * time.Millisecond}
					if id != "a" {
						mv.Local.OpTime = topology.MakeOpTime(995, 1, 3)
					}
				}
			}), want: ReplicationLagging, prim: "h1",
			check: func(t *testing.T, a Analysis) {
				if !a.Since.Equal(t0.Add(-time.Minute)) {
					t.Errorf("since = %v", a.Since)
				}
				if ev := a.Evidence[len(a.Evidence)-1]; !strings.Contains(ev, "most 5s") {
					t.Errorf("last evidence %q does not give the lag", ev)
				}
			}},
		{name: "sick primary: hung probes from two sidecars for a minute",
			snap: fiveSet("a", func(v map[string]*topology.MemberView) {
				for _, id := range []string{"b", "c"} {
					v[id].JournalProbe = topology.WriteProbe{Target: "h1", Outstanding: true, OutstandingSince: t0.Add(-time.Minute), FailingSince: t0.Add(-time.Minute)}
				}
			}), want: SickPrimary, prim: "h1",
			check: func(t *testing.T, a Analysis) {
				if !a.Since.Equal(t0.Add(-time.Minute)) {
					t.Errorf("since = %v", a.Since)
				}
			}},
		{name: "sick corroboration starts when the second witness joins",
			snap: fiveSet("a", func(v map[string]*topology.MemberView) {
				v["b"].JournalProbe = topology.WriteProbe{Target: "h1", ConsecutiveFails: 5, FailingSince: t0.Add(-time.Hour)}
				v["c"].JournalProbe = topology.WriteProbe{Target: "h1", ConsecutiveFails: 5, FailingSince: t0.Add(-3 * time.Second)}
			}), want: SickPrimaryPending},
		{name: "nobody claims a primary", snap: fiveSet("a", func(v map[string]*topology.MemberView) {
			for _, mv := range v {
				mv.Local.State, mv.Primary = topology.StateSecondary, topology.PrimarySeen{}
			}
		}), want: NoPrimary},
		{name: "nobody claims a primary, a candidate runs", snap: fiveSet("a", func(v map[string]*topology.MemberView) {
			for _, mv := range v {
				mv.Local.State, mv.Primary = topology.StateSecondary, topology.PrimarySeen{}
			}
			v["c"].Local.Candidate = true
		}), want: ElectionInProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Classify(tt.snap, pol)
			if a.Kind != tt.want {
				t.Fatalf("kind = %s, want %s; evidence %q", a.Kind, tt.want, a.Evidence)
			}
			if tt.prim != "" && a.Primary != tt.prim {
				t.Errorf("primary = %q, want %q", a.Primary, tt.prim)
			}
			if tt.check != nil {
				tt.check(t, a)
			}
		})
	}
}

func TestKindsAreClosedAndCoded(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds() {
		code := k.String()
		if code == "" || code == "unknown" || seen[code] {
			t.Errorf("kind %d has code %q", k, code)
		}
		seen[code] = true
		if back, ok := ParseKind(code); !ok || back != k {
			t.Errorf("ParseKind(%q) = %v", code, back)
		}
		if kindReason[k] == "" {
			t.Errorf("kind %s has no reason", k)
		}
		if k != Healthy && k.Actionable() == kindReason[k].Refused() {
			t.Errorf("kind %s: actionable %v but reason %s", k, k.Actionable(), kindReason[k])
		}
	}
}
