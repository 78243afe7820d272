package dashboard_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/rsguard/rsguard/api"
)

// The fake's admin actions: each answers ?dry_run=1 with its plan and acts only without it.

func decodeRequest(w http.ResponseWriter, r *http.Request) (api.ActionRequest, bool) {
	var req api.ActionRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		problem(w, api.Problem{Title: "bad request", Status: http.StatusBadRequest, Detail: err.Error()})
		return req, false
	}
	return req, true
}

func (f *fakeAPI) switchover(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	to := req.To
	if to == "" {
		to = "h2:27017"
	}
	if !slices.Contains(f.members, to) || to == f.primary {
		problem(w, api.Problem{Title: "not a secondary", Status: http.StatusBadRequest, Field: "to",
			Detail: fmt.Sprintf("to %q is not a secondary of the set", to)})
		return
	}
	res := api.ActionResult{ID: fmt.Sprintf("req-%d", len(f.runs)+len(f.dryRuns)+1), Action: api.ActionSwitchover,
		Actor: req.Actor, Why: req.Why, From: f.primary, To: to, Executor: "s1", Created: time.Now().UTC(),
		Steps: []api.Step{
			{Do: "wait_catch_up", Host: to, Detail: "until " + to + " has the primary's last write"},
			{Do: "step_down", Host: f.primary},
			{Do: "step_up", Host: to},
		}}
	if r.URL.Query().Get("dry_run") == "1" {
		f.dryRuns = append(f.dryRuns, req)
		res.DryRun, res.State, res.Reason = true, api.StatePlanned, "switchover_planned"
		reply(w, http.StatusOK, res)
		return
	}
	f.runs = append(f.runs, req)
	from := f.primary
	f.primary, f.term = to, f.term+1
	res.State, res.Reason, res.Message = api.StateDone, "switchover_done", to+" is primary in term "+fmt.Sprint(f.term)
	res.Started, res.Ended, res.DurationMs = res.Created, time.Now().UTC(), 1
	for i := range res.Steps {
		res.Steps[i].Result = "ok"
	}
	f.addLocked(api.Event{Kind: api.EventAction, Summary: "switchover from " + from + " to " + to,
		Reason: res.Reason, Actor: req.Actor, From: from, To: to, Term: f.term, Request: &res})
	reply(w, http.StatusOK, res)
}

func (f *fakeAPI) acknowledge(w http.ResponseWriter, r *http.Request) {
	reply(w, http.StatusOK, api.ActionResult{ID: "ack", Action: api.ActionAcknowledge, State: api.StatePlanned,
		Reason: "acknowledge_planned", DryRun: r.URL.Query().Get("dry_run") == "1"})
}

func (f *fakeAPI) pause(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	res := api.ActionResult{ID: "pause", Action: api.ActionPause, Actor: req.Actor, Why: req.Why,
		Steps: []api.Step{{Do: "pause", Detail: "every sidecar stops automatic actions"}}}
	if f.paused != nil {
		res.State, res.Reason = api.StateRefused, "already_paused"
		problem(w, api.Problem{Title: "refused", Status: http.StatusConflict, Reason: res.Reason,
			Detail: "automatic actions are paused already by " + f.paused.By, Result: &res})
		return
	}
	if r.URL.Query().Get("dry_run") == "1" {
		res.DryRun, res.State, res.Reason = true, api.StatePlanned, "pause_planned"
		reply(w, http.StatusOK, res)
		return
	}
	f.paused = &api.Pause{By: "operator:" + req.Actor, At: time.Now().UTC(), Why: req.Why}
	f.addLocked(api.Event{Kind: api.EventPause, Summary: "automatic actions paused", Actor: req.Actor})
	res.State, res.Reason = api.StateDone, "paused"
	reply(w, http.StatusOK, res)
}

func (f *fakeAPI) resume(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	res := api.ActionResult{ID: "resume", Action: api.ActionResume, Actor: req.Actor,
		Steps: []api.Step{{Do: "resume"}}}
	if r.URL.Query().Get("dry_run") == "1" {
		res.DryRun, res.State, res.Reason = true, api.StatePlanned, "resume_planned"
		reply(w, http.StatusOK, res)
		return
	}
	f.paused = nil
	f.addLocked(api.Event{Kind: api.EventResume, Summary: "automatic actions resumed", Actor: req.Actor})
	res.State, res.Reason = api.StateDone, "resumed"
	reply(w, http.StatusOK, res)
}

// resync answers 202 pending, as a sidecar does when the executor is another sidecar and
// ?wait ran out; the page follows it at /v1/requests/{id}.
func (f *fakeAPI) resync(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	member := r.PathValue("member")
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.members, member) {
		problem(w, api.Problem{Title: "unknown member", Status: http.StatusNotFound, Field: "member",
			Detail: fmt.Sprintf("%q is not a member of the set", member)})
		return
	}
	res := &api.ActionResult{ID: "resync-" + member, Action: api.ActionResync, Actor: req.Actor, To: member,
		Executor: "s2", Created: time.Now().UTC(),
		Steps: []api.Step{{Do: "shutdown", Host: member}, {Do: "wipe_dbpath", Host: member}, {Do: "initial_sync", Host: member}}}
	if r.URL.Query().Get("dry_run") == "1" {
		f.dryRuns = append(f.dryRuns, req)
		res.DryRun, res.State, res.Reason = true, api.StatePlanned, "resync_planned"
		reply(w, http.StatusOK, res)
		return
	}
	f.runs = append(f.runs, req)
	res.State, res.Reason = api.StatePending, "resync_pending"
	f.requests[res.ID] = res
	reply(w, http.StatusAccepted, res)
}

func (f *fakeAPI) request(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, ok := f.requests[r.PathValue("id")]
	if !ok {
		problem(w, api.Problem{Title: "unknown request", Status: http.StatusNotFound, Field: "id"})
		return
	}
	switch res.State {
	case api.StatePending:
		res.State = api.StateRunning
	case api.StateRunning:
		res.State, res.Reason, res.Message = api.StateDone, "resync_done", res.To+" is SECONDARY again"
	}
	reply(w, http.StatusOK, res)
}
