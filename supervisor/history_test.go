package supervisor

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// Two sidecars holding the same memory derive the same events with the same ids; a history keeps
// each once, across adds and across a restart (the file), survives a torn last line, and streams
// only the new ones.
func TestHistoryOncePerFact(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	inc := topology.Incident{Primary: h1, Term: 3}
	m := topology.Memory{
		Incidents: map[string]topology.IncidentRecord{inc.Key(): {Incident: inc, Since: t0, Kind: "primary_process_dead", By: "a"}},
		Failovers: map[string]topology.FailoverRecord{inc.Key(): {Incident: inc, At: t0.Add(time.Second), To: h2, By: "b", Reason: "primary_process_dead"}},
		Pause:     topology.PauseRecord{Paused: true, At: t0.Add(time.Minute), By: "operator:ops", Why: "upgrade"},
		Requests: map[string]topology.RequestRecord{"r1": {ID: "r1", Action: api.ActionSwitchover, From: h2, To: h3, Actor: "operator:ops",
			Stage: topology.RequestEnded, Started: t0.Add(2 * time.Minute), Ended: t0.Add(2*time.Minute + 800*time.Millisecond), State: api.StateDone, Reason: reasonSwitchoverDone}},
	}
	a := election.Analysis{Kind: election.Healthy, Primary: h3, Term: 5}
	one, two := deriveEvents(m, a, t0.Add(3*time.Minute)), deriveEvents(m, a, t0.Add(4*time.Minute))
	ids := map[string]bool{}
	for _, ev := range one {
		ids[ev.ID] = true
	}
	for _, ev := range two {
		if !ids[ev.ID] {
			t.Fatalf("event %s derived by one sidecar only", ev.ID)
		}
	}
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	h, err := newHistory(log, dir)
	if err != nil {
		t.Fatal(err)
	}
	live, cancel := h.subscribe()
	defer cancel()
	if got := h.add(one); len(got) != 5 {
		t.Fatalf("first add kept %d events, want 5: %+v", len(got), got)
	}
	if got := h.add(two); len(got) != 0 {
		t.Fatalf("the same facts again added %d events", len(got))
	}
	if len(live) != 5 {
		t.Fatalf("%d live events, want 5", len(live))
	}
	evs := h.query(api.HistoryQuery{})
	if evs[0].Kind != api.EventIncident || evs[len(evs)-1].Kind != api.EventPrimaryChanged {
		t.Errorf("history not in time order: %+v", evs)
	}
	if sw := h.query(api.HistoryQuery{Kind: api.EventAction}); len(sw) != 1 || sw[0].Request == nil || sw[0].Request.DurationMs != 800 {
		t.Errorf("switchover event: %+v", sw)
	}
	if after := h.query(api.HistoryQuery{After: evs[2].ID}); len(after) != 2 {
		t.Errorf("%d events after the third, want 2", len(after))
	}
	// A crash tore the last line: it is skipped, the rest reloads, nothing is duplicated.
	f, _ := os.OpenFile(filepath.Join(dir, "history.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString(`{"id":"torn","ki`)
	_ = f.Close()
	h2, err := newHistory(log, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := h2.query(api.HistoryQuery{}); len(got) != 5 {
		t.Fatalf("reloaded %d events, want 5", len(got))
	}
	if got := h2.add(one); len(got) != 0 {
		t.Fatalf("after a restart the same facts added %d events", len(got))
	}
}
