package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rsguard/rsguard/api"
)

// TestDoPolls202: the action is posted with its query and body and the token; the 202 is
// followed at /v1/requests/{id} until it is done.
func TestDoPolls202(t *testing.T) {
	f := newFake(t)
	var polls atomic.Int32
	f.mux.HandleFunc("POST /v1/switchover", func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer s3cret" {
			t.Errorf("Authorization %q", got)
		}
		if q := r.URL.Query(); q.Get("wait") != "1m30s" || q.Get("dry_run") != "" {
			t.Errorf("query %q", r.URL.RawQuery)
		}
		var req api.ActionRequest
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil || req != (api.ActionRequest{Actor: "alice", Why: "patching", To: "127.0.0.3:27017"}) {
			t.Errorf("body %s", body)
		}
		writeJSON(w, http.StatusAccepted, api.ActionResult{ID: "r-7", Action: "switchover", State: api.StatePending})
	})
	f.mux.HandleFunc("GET /v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "r-7" || r.Header.Get("Authorization") != "Bearer s3cret" {
			t.Errorf("poll %s with %q", r.URL.Path, r.Header.Get("Authorization"))
		}
		state := api.StateRunning
		if polls.Add(1) >= 3 {
			state = api.StateDone
		}
		writeJSON(w, http.StatusOK, api.ActionResult{ID: "r-7", Action: "switchover", State: state, Reason: "switchover_done"})
	})
	c := f.client(t, Options{Token: "s3cret", PollInterval: time.Millisecond})
	res, err := c.Do(context.Background(), api.ActionSwitchover, "", api.ActionRequest{Actor: "alice", Why: "patching", To: "127.0.0.3:27017"},
		DoOptions{Wait: 90 * time.Second})
	if err != nil || res.State != api.StateDone || res.Reason != "switchover_done" || polls.Load() != 3 {
		t.Fatalf("result %+v, err %v, polls %d", res, err, polls.Load())
	}
}

// TestDoPollUntilCtx: a request that stays pending ends with ctx, returning the last result.
func TestDoPollUntilCtx(t *testing.T) {
	f := newFake(t)
	f.mux.HandleFunc("POST /v1/resync/{member}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("member") != "127.0.0.4:27017" || r.URL.Query().Get("dry_run") != "" {
			t.Errorf("path %s query %s", r.URL.Path, r.URL.RawQuery)
		}
		writeJSON(w, http.StatusAccepted, api.ActionResult{ID: "r-8", Action: "resync", State: api.StatePending})
	})
	f.mux.HandleFunc("GET /v1/requests/r-8", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.ActionResult{ID: "r-8", Action: "resync", State: api.StateRunning})
	})
	c := f.client(t, Options{PollInterval: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := c.Do(ctx, api.ActionResync, "127.0.0.4:27017", api.ActionRequest{}, DoOptions{})
	if !errors.Is(err, context.DeadlineExceeded) || res.ID != "r-8" || res.State != api.StateRunning {
		t.Fatalf("result %+v, err %v", res, err)
	}
	// Detach: the pending answer as is, and ?wait=0s.
	f.mux.HandleFunc("POST /v1/pause", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("wait") != "0s" || r.URL.Query().Get("dry_run") != "1" {
			t.Errorf("query %s", r.URL.RawQuery)
		}
		writeJSON(w, http.StatusAccepted, api.ActionResult{ID: "r-9", State: api.StatePending})
	})
	res, err = c.Do(context.Background(), api.ActionPause, "", api.ActionRequest{}, DoOptions{Detach: true, DryRun: true})
	if err != nil || res.State != api.StatePending {
		t.Fatalf("detached: %+v, %v", res, err)
	}
}

// TestProblem: a problem document becomes a *ProblemError with a one-line message and the
// refused plan; a plain-text error body is kept verbatim.
func TestProblem(t *testing.T) {
	f := newFake(t)
	refused := api.ActionResult{ID: "r-1", Action: "failover", State: api.StateRefused, Reason: "anti_flap",
		Steps: []api.Step{{Do: "step_up", Host: "127.0.0.3:27017"}}}
	f.mux.HandleFunc("POST /v1/failover", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusConflict, api.Problem{Type: "https://rsguard.dev/problems/anti_flap", Title: "refused",
			Status: 409, Detail: "a failover happened 2m ago\nacknowledge it first", Reason: "anti_flap", Result: &refused})
	})
	f.mux.HandleFunc("POST /v1/switchover", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusBadRequest, api.Problem{Title: "bad request", Status: 400, Detail: "switchover takes no force", Field: "force"})
	})
	f.mux.HandleFunc("POST /v1/acknowledge", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "  admin actions are disabled: no admin token is configured\n(set http.admin_token_file)\n", http.StatusForbidden)
	})
	c := f.client(t, Options{})
	ctx := context.Background()

	res, err := c.Do(ctx, api.ActionFailover, "", api.ActionRequest{To: "127.0.0.3:27017"}, DoOptions{})
	pe := AsProblem(err)
	if pe == nil || pe.StatusCode != 409 || pe.Raw || res.Reason != "anti_flap" || len(res.Steps) != 1 || pe.Result() == nil {
		t.Fatalf("409: result %+v, err %#v", res, err)
	}
	if want := "409 Conflict: refused: a failover happened 2m ago; acknowledge it first (reason anti_flap)"; err.Error() != want {
		t.Errorf("409 message %q\nwant %q", err.Error(), want)
	}

	_, err = c.Do(ctx, api.ActionSwitchover, "", api.ActionRequest{}, DoOptions{})
	if want := "400 Bad Request: switchover takes no force (field force)"; err == nil || err.Error() != want {
		t.Errorf("400 message %v\nwant %q", err, want)
	}

	_, err = c.Do(ctx, api.ActionAcknowledge, "", api.ActionRequest{}, DoOptions{})
	pe = AsProblem(err)
	if pe == nil || !pe.Raw || pe.StatusCode != 403 ||
		pe.Problem.Detail != "admin actions are disabled: no admin token is configured\n(set http.admin_token_file)" {
		t.Fatalf("403: %#v", err)
	}
	if want := "403 Forbidden: admin actions are disabled: no admin token is configured; (set http.admin_token_file)"; err.Error() != want {
		t.Errorf("403 message %q\nwant %q", err.Error(), want)
	}

	// Bad calls never reach the server.
	for _, call := range []struct{ action, member, want string }{
		{"resync", "", "no member given"}, {"pause", "h:1", "only resync takes one"}, {"reboot", "", `unknown action "reboot"`},
	} {
		if _, err := c.Do(ctx, call.action, call.member, api.ActionRequest{}, DoOptions{}); err == nil || !strings.Contains(err.Error(), call.want) {
			t.Errorf("Do(%q, %q): %v, want %q", call.action, call.member, err, call.want)
		}
	}
}

// TestReads: each read sends its query and the token, and decodes its answer.
func TestReads(t *testing.T) {
	f := newFake(t)
	since := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	f.mux.HandleFunc("GET /v1/history", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "kind=failover&limit=5&since=2026-12-03T06%3A00%3A00Z" || r.Header.Get("Authorization") != "Bearer rd" {
			t.Errorf("history query %q, auth %q", r.URL.RawQuery, r.Header.Get("Authorization"))
		}
		writeJSON(w, 200, api.History{Events: []api.Event{{ID: "e1", Kind: api.EventFailover}}})
	})
	f.mux.HandleFunc("GET /v1/audit", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "limit=3" {
			t.Errorf("audit query %q", r.URL.RawQuery)
		}
		writeJSON(w, 200, map[string]any{"sidecar": "node-a", "records": []any{map[string]any{"event": "x"}}})
	})
	f.mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"sidecar": "node-a"})
	})
	f.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "local mongod not reached", http.StatusServiceUnavailable)
	})
	c := f.client(t, Options{Token: "rd"})
	ctx := context.Background()
	h, err := c.History(ctx, HistoryQuery{Since: since.In(time.FixedZone("X", 3600)), Limit: 5, Kind: "failover"})
	if err != nil || len(h.Events) != 1 || h.Events[0].ID != "e1" {
		t.Fatalf("history %+v, %v", h, err)
	}
	a, err := c.Audit(ctx, 3)
	if err != nil || a.Sidecar != "node-a" || len(a.Records) != 1 {
		t.Fatalf("audit %+v, %v", a, err)
	}
	raw, err := c.Status(ctx)
	if err != nil || !strings.Contains(string(raw), `"sidecar":"node-a"`) {
		t.Fatalf("status %s, %v", raw, err)
	}
	if err := c.Ready(ctx); err == nil || !strings.Contains(err.Error(), "503 Service Unavailable: local mongod not reached") {
		t.Fatalf("ready: %v", err)
	}
	if _, err := c.Request(ctx, ""); err == nil {
		t.Error("Request with an empty id: no error")
	}
}
