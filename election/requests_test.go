package election

import (
	"fmt"
	"testing"
	"time"

	"github.com/rsguard/rsguard/topology"
)

func TestRequestMergeKeepsTheOutcome(t *testing.T) {
	pending := topology.RequestRecord{ID: "r1", Action: "switchover", Executor: "a", Created: memT0, Expires: memT0.Add(time.Minute)}
	running := pending
	running.Stage, running.Started = topology.RequestRunning, memT0.Add(time.Second)
	ended := running
	ended.Stage, ended.Ended, ended.State = topology.RequestEnded, memT0.Add(2*time.Second), "done"
	for _, order := range [][]topology.RequestRecord{{pending, running, ended}, {ended, pending, running}, {running, ended, pending}} {
		var m topology.Memory
		for _, r := range order {
			m = MergeMemory(m, topology.Memory{Requests: map[string]topology.RequestRecord{r.ID: r}})
		}
		if got := m.Requests["r1"]; got.State != "done" || got.Stage != topology.RequestEnded {
			t.Fatalf("merge of %v lost the outcome: %+v", order, got)
		}
	}
}

func TestPruneRequestsBoundsEndedOnes(t *testing.T) {
	m := map[string]topology.RequestRecord{}
	for i := range 20 {
		id := fmt.Sprintf("r%02d", i)
		m[id] = topology.RequestRecord{ID: id, Stage: topology.RequestEnded, Ended: memT0.Add(time.Duration(i) * time.Second)}
	}
	m["old"] = topology.RequestRecord{ID: "old", Stage: topology.RequestEnded, Ended: memT0.Add(-2 * time.Hour)}
	m["run"] = topology.RequestRecord{ID: "run", Stage: topology.RequestRunning, Started: memT0.Add(-3 * time.Hour)}
	m["void"] = topology.RequestRecord{ID: "void", Expires: memT0.Add(-time.Hour)}
	got := pruneRequests(m, memT0.Add(time.Minute))
	if len(got) != KeptRequests+1 {
		t.Fatalf("kept %d requests, want the %d newest ended ones and the running one: %v", len(got), KeptRequests, got)
	}
	if _, ok := got["run"]; !ok {
		t.Fatal("a running request was pruned")
	}
	if _, ok := got["r19"]; !ok {
		t.Fatal("the newest ended request was pruned")
	}
	if _, ok := got["r00"]; ok {
		t.Fatal("an old ended request beyond the bound was kept")
	}
}

func TestActiveRequestIsTheEarliest(t *testing.T) {
	now := memT0.Add(time.Minute)
	m := topology.Memory{Requests: map[string]topology.RequestRecord{
		"b":    {ID: "b", Created: memT0.Add(2 * time.Second), Expires: now.Add(time.Minute)},
		"a":    {ID: "a", Created: memT0.Add(time.Second), Stage: topology.RequestRunning},
		"void": {ID: "void", Created: memT0, Expires: now.Add(-time.Second)},
		"done": {ID: "done", Created: memT0, Stage: topology.RequestEnded},
	}}
	r, ok := ActiveRequest(m, now)
	if !ok || r.ID != "a" {
		t.Fatalf("ActiveRequest = %q, %v; want the running request a", r.ID, ok)
	}
	if _, ok := ActiveRequest(topology.Memory{}, now); ok {
		t.Fatal("an empty memory has an active request")
	}
}

// A running request's executor records its steps' results one by one: a copy with more results
// must win the merge whatever the order, or the progress others (and the executor itself) see
// goes backwards.
func TestRequestMergeKeepsStepProgress(t *testing.T) {
	run := topology.RequestRecord{ID: "r1", Action: "switchover", Executor: "a", Created: memT0, Expires: memT0.Add(time.Minute),
		Stage: topology.RequestRunning, Started: memT0.Add(time.Second),
		Steps: []topology.RequestStep{{Do: "wait_catch_up", Host: "h2"}, {Do: "step_down", Host: "h1"}}}
	more := run
	more.Steps = []topology.RequestStep{{Do: "wait_catch_up", Host: "h2", Result: "ok (3ms)"}, {Do: "step_down", Host: "h1"}}
	for _, order := range [][]topology.RequestRecord{{run, more}, {more, run}} {
		var m topology.Memory
		for _, r := range order {
			m = MergeMemory(m, topology.Memory{Requests: map[string]topology.RequestRecord{r.ID: r}})
		}
		if got := m.Requests["r1"].Steps[0].Result; got != "ok (3ms)" {
			t.Fatalf("merge kept the copy without the step's result: %+v", m.Requests["r1"])
		}
	}
}
