package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rsguard/rsguard/api"
)

func switchoverDone() api.ActionResult {
	t0 := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	return api.ActionResult{ID: "r-12", Action: "switchover", Actor: "operator:alice", Why: "kernel update", State: api.StateDone,
		Reason: "switchover_done", Executor: "node-a", From: "127.0.0.2:27017", To: "127.0.0.3:27017",
		Steps: []api.Step{
			{Do: "wait_catch_up", Host: "127.0.0.3:27017", Detail: "lag 0s", Result: "ok"},
			{Do: "step_down", Host: "127.0.0.2:27017", Result: "ok"},
		},
		Created: t0, Started: t0, Ended: t0.Add(1500 * time.Millisecond), DurationMs: 1500}
}

// TestSwitchover: the request's path, query, body and token; the result with its plan; exit 0.
func TestSwitchover(t *testing.T) {
	f := newContractFake(t)
	f.answer("POST /v1/switchover", 200, switchoverDone())
	code, out, errs := runMain(t, "switchover", "--addr", f.URL, "--token-file", tokenFile(t, "adm1n"), "--to", "127.0.0.3:27017",
		"--why", "kernel update", "--actor", "alice", "--wait", "30s")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	r := f.only(t)
	if r.Path != "/v1/switchover" || r.Query != "wait=30s" || r.Auth != "Bearer adm1n" ||
		r.Body["to"] != "127.0.0.3:27017" || r.Body["why"] != "kernel update" || r.Body["actor"] != "alice" || len(r.Body) != 3 {
		t.Errorf("request %+v", r)
	}
	t.Logf("output:\n%s", out)
	for _, want := range []string{
		"switchover done (switchover_done)\n",
		"  127.0.0.2:27017 -> 127.0.0.3:27017, request r-12, by operator:alice, executor node-a, took 1.5s\n",
		"  why: kernel update\n",
		"plan:\n  #  STEP           HOST             DETAIL  RESULT\n",
		"  1  wait_catch_up  127.0.0.3:27017  lag 0s  ok\n",
		"  2  step_down      127.0.0.2:27017  -       ok\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestSwitchoverDryRunJSON: --dry-run sends dry_run=1; a planned result exits 0 and -o json
// prints the ActionResult. The actor defaults to $USER.
func TestSwitchoverDryRunJSON(t *testing.T) {
	f := newContractFake(t)
	planned := switchoverDone()
	planned.State, planned.DryRun, planned.Reason = api.StatePlanned, true, "switchover_planned"
	for i := range planned.Steps {
		planned.Steps[i].Result = ""
	}
	f.answer("POST /v1/switchover", 200, planned)
	t.Setenv("USER", "bob")
	code, out, errs := runMain(t, "switchover", "--addr", f.URL, "--dry-run", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	if r := f.only(t); r.Query != "dry_run=1&wait=1m0s" || r.Body["actor"] != "bob" || r.Auth != "" {
		t.Errorf("request %+v", r)
	}
	var back api.ActionResult
	if err := json.Unmarshal([]byte(out), &back); err != nil || back.State != api.StatePlanned || len(back.Steps) != 2 {
		t.Errorf("JSON output %s (%v)", out, err)
	}
	code, out, _ = runMain(t, "switchover", "--addr", f.URL, "--dry-run")
	if code != exitOK || !strings.Contains(out, "switchover planned (switchover_planned): dry run, nothing done") ||
		!strings.Contains(out, "  1  wait_catch_up  127.0.0.3:27017  lag 0s  not run") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

// TestFailoverRefusedAndFailed: a 409 prints the refused plan with its reason and exits 1, as
// does a 502; -o json prints the problem.
func TestFailoverRefusedAndFailed(t *testing.T) {
	f := newContractFake(t)
	refused := api.ActionResult{ID: "r-13", Action: "failover", State: api.StateRefused, Reason: "anti_flap",
		Message: "a failover happened 2m ago: acknowledge it first", To: "127.0.0.4:27017",
		Steps: []api.Step{{Do: "step_up", Host: "127.0.0.4:27017"}}}
	f.answer("POST /v1/failover", 409, api.Problem{Type: "https://rsguard.dev/problems/anti_flap", Title: "refused", Status: 409,
		Detail: refused.Message, Reason: "anti_flap", Result: &refused})
	code, out, errs := runMain(t, "failover", "--addr", f.URL, "--to", "127.0.0.4:27017", "--force")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1", code)
	}
	if r := f.only(t); r.Path != "/v1/failover" || r.Body["to"] != "127.0.0.4:27017" || r.Body["force"] != true {
		t.Errorf("request %+v", r)
	}
	if !strings.Contains(out, "failover REFUSED (anti_flap)\n  a failover happened 2m ago: acknowledge it first\n") ||
		!strings.Contains(out, "  1  step_up  127.0.0.4:27017  -       not run") {
		t.Errorf("output:\n%s", out)
	}
	if !strings.Contains(errs, "supervisor failover: 409 Conflict: refused: a failover happened 2m ago: acknowledge it first (reason anti_flap)") {
		t.Errorf("stderr %s", errs)
	}
	code, out, _ = runMain(t, "failover", "--addr", f.URL, "--to", "127.0.0.4:27017", "-o", "json")
	var p api.Problem
	if code != exitFailed || json.Unmarshal([]byte(out), &p) != nil || p.Reason != "anti_flap" || p.Result == nil || p.Result.ID != "r-13" {
		t.Errorf("-o json: exit %d, output %s", code, out)
	}

	g := newContractFake(t)
	failed := refused
	failed.State, failed.Reason, failed.Steps[0].Result = api.StateFailed, "step_up_failed", "replSetStepUp: not electable"
	g.answer("POST /v1/failover", 502, api.Problem{Title: "action failed", Status: 502, Reason: "step_up_failed", Result: &failed})
	code, out, _ = runMain(t, "failover", "--addr", g.URL, "--to", "127.0.0.4:27017")
	if code != exitFailed || !strings.Contains(out, "failover FAILED (step_up_failed)") || !strings.Contains(out, "replSetStepUp: not electable") {
		t.Errorf("502: exit %d, output:\n%s", code, out)
	}
	// --to is required.
	if code, _, errs := runMain(t, "failover", "--addr", g.URL); code != exitUsage || !strings.Contains(errs, "--to") {
		t.Errorf("failover without --to: exit %d, stderr %s", code, errs)
	}
}

// TestResyncPolls: `resync MEMBER` and `resync run MEMBER` post to /v1/resync/MEMBER; a 202
// is followed at /v1/requests/{id} until done.
func TestResyncPolls(t *testing.T) {
	for _, args := range [][]string{{"resync", "127.0.0.4:27017"}, {"resync", "run", "127.0.0.4:27017"}} {
		f := newContractFake(t)
		var polls atomic.Int32
		f.answer("POST /v1/resync/{member}", 202, api.ActionResult{ID: "r-14", Action: "resync", State: api.StatePending, To: "127.0.0.4:27017"})
		f.mux.HandleFunc("GET /v1/requests/r-14", func(w http.ResponseWriter, r *http.Request) {
			res := api.ActionResult{ID: "r-14", Action: "resync", State: api.StateRunning, To: "127.0.0.4:27017"}
			if polls.Add(1) >= 2 {
				res.State, res.Reason = api.StateDone, "resync_done"
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(res)
		})
		code, out, errs := runMain(t, append(args, "--addr", f.URL, "--token-file", tokenFile(t, "adm1n"))...)
		if code != exitOK || !strings.Contains(out, "resync done (resync_done)") {
			t.Fatalf("%v: exit %d, output %s, stderr %s", args, code, out, errs)
		}
		rs := f.requests()
		if len(rs) != 3 || rs[0].Method != "POST" || rs[0].Path != "/v1/resync/127.0.0.4:27017" || rs[0].Query != "wait=1m0s" ||
			rs[1].Path != "/v1/requests/r-14" || rs[2].Auth != "Bearer adm1n" {
			t.Errorf("%v: requests %+v", args, rs)
		}
	}
	// --wait 0: the pending request is printed and the command exits 0 without polling.
	f := newContractFake(t)
	f.answer("POST /v1/resync/{member}", 202, api.ActionResult{ID: "r-15", Action: "resync", State: api.StatePending})
	code, out, _ := runMain(t, "resync", "127.0.0.4:27017", "--addr", f.URL, "--wait", "0")
	if code != exitOK || !strings.Contains(out, "still pending: follow it with `supervisor request r-15`") || len(f.requests()) != 1 ||
		f.requests()[0].Query != "wait=0s" {
		t.Errorf("--wait 0: exit %d, output %s, requests %+v", code, out, f.requests())
	}
}

// TestPauseResumeAck: the paths and bodies; a 200 exits 0.
func TestPauseResumeAck(t *testing.T) {
	for _, tc := range []struct{ verb, path string }{{"pause", "/v1/pause"}, {"resume", "/v1/resume"}, {"ack", "/v1/acknowledge"}} {
		f := newContractFake(t)
		action := strings.TrimPrefix(tc.path, "/v1/")
		f.answer("POST "+tc.path, 200, api.ActionResult{ID: "r-1", Action: action, State: api.StateDone, Reason: action + "_done"})
		code, out, errs := runMain(t, tc.verb, "--addr", f.URL, "--why", "maintenance", "--actor", "carol")
		r := f.only(t)
		if code != exitOK || r.Path != tc.path || r.Query != "" || r.Body["why"] != "maintenance" || r.Body["actor"] != "carol" ||
			!strings.Contains(out, action+" done ("+action+"_done)") {
			t.Errorf("%s: exit %d, request %+v, output %s, stderr %s", tc.verb, code, r, out, errs)
		}
	}
}

// TestActionExitTwo: unreachable, 400, 401, 403 and 404 exit 2 with the problem in one line.
func TestActionExitTwo(t *testing.T) {
	f := newContractFake(t)
	f.answer("POST /v1/switchover", 400, api.Problem{Title: "bad request", Status: 400, Detail: "no such member", Field: "to"})
	f.answer("POST /v1/pause", 401, api.Problem{Title: "unauthorized", Status: 401, Detail: "no or wrong token"})
	f.mux.HandleFunc("POST /v1/resume", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "admin actions are disabled: no admin token is configured", http.StatusForbidden)
	})
	f.answer("POST /v1/resync/{member}", 404, api.Problem{Title: "unknown member", Status: 404, Field: "member"})
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"switchover", "--to", "x:1"}, "supervisor switchover: 400 Bad Request: no such member (field to)"},
		{[]string{"pause"}, "supervisor pause: 401 Unauthorized: no or wrong token"},
		{[]string{"resume"}, "supervisor resume: 403 Forbidden: admin actions are disabled: no admin token is configured"},
		{[]string{"resync", "h:9"}, "supervisor resync: 404 Not Found: unknown member (field member)"},
	} {
		code, _, errs := runMain(t, append(tc.args, "--addr", f.URL)...)
		if code != exitUsage || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, stderr %s", tc.args, code, errs)
		}
	}
	f.Close()
	if code, _, errs := runMain(t, "ack", "--addr", f.URL); code != exitUsage || !strings.Contains(errs, "POST "+f.URL+"/v1/acknowledge") {
		t.Errorf("unreachable: exit %d, stderr %s", code, errs)
	}
	if code, _, _ := runMain(t, "pause", "--output", "yaml"); code != exitUsage {
		t.Errorf("-o yaml: exit %d", code)
	}
}
