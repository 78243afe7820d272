package election

import (
	"testing"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// TestQuietUntil: the quiet period follows the newest term start among the visible, reachable
// mongods; an unreachable mongod's stale term start does not count.
func TestQuietUntil(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	view := func(id string, ok bool, term int64, since time.Time) topology.ViewWithAge {
		return topology.ViewWithAge{Alive: true, View: topology.MemberView{SidecarID: id, Mode: topology.ModeData,
			Local: topology.LocalView{Host: "h" + id, Reachable: ok, Term: term, TermSince: since}}}
	}
	snap := topology.Snapshot{Now: t0, Self: "a",
		Members: []topology.SidecarConfig{{ID: "a", Mode: topology.ModeData, Host: "ha"}, {ID: "b", Mode: topology.ModeData, Host: "hb"}, {ID: "c", Mode: topology.ModeData, Host: "hc"}},
		Views: map[string]topology.ViewWithAge{
			"a": view("a", true, 4, t0.Add(-3*time.Second)),
			"b": view("b", true, 3, t0.Add(-time.Minute)),
			"c": view("c", false, 5, t0.Add(-time.Second)),
		}}
	p := DefaultPolicy()
	until, term := QuietUntil(snap, p)
	if term != 4 || !until.Equal(t0.Add(-3*time.Second+p.ElectionQuiet)) {
		t.Errorf("QuietUntil = %s term %d, want %s term 4", until, term, t0.Add(-3*time.Second+p.ElectionQuiet))
	}
	snap.Views = map[string]topology.ViewWithAge{"a": view("a", true, 4, time.Time{})}
	if until, term := QuietUntil(snap, p); !until.IsZero() || term != 0 {
		t.Errorf("no term start known: QuietUntil = %s term %d, want zero", until, term)
	}
}
