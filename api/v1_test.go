package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSet is a stub runtime: actions go pending and end after two polls; the history is a
// slice, and new events go to the subscribers.
type fakeSet struct {
	mu    sync.Mutex
	polls int
	evs   []Event
	subs  []chan Event
	local LocalRole
}

func (f *fakeSet) options(admin, read string) Options {
	return Options{
		AdminToken: admin, ReadToken: read,
		Cluster: func() Cluster { return Cluster{Set: "rs0", Sidecar: "a", Health: HealthHealthy} },
		Act: func(_ context.Context, action, member string, req ActionRequest, dry bool) (ActionResult, error) {
			switch {
			case req.To == "nobody:1":
				return ActionResult{}, NotFound("to", "nobody:1 is not a member")
			case req.To == "lagging:1":
				return ActionResult{}, Refused(ActionResult{Action: action, State: StateRefused, Reason: "refused_target_lagging", Message: "lags 30s"})
			case dry:
				return ActionResult{ID: "r1", Action: action, State: StatePlanned, Steps: []Step{{Do: "step_up", Host: req.To}}}, nil
			}
			return ActionResult{ID: "r1", Action: action, To: req.To + member, State: StatePending}, nil
		},
		Request: func(id string) (ActionResult, bool) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if id != "r1" {
				return ActionResult{}, false
			}
			f.polls++
			if f.polls < 2 {
				return ActionResult{ID: id, State: StateRunning}, true
			}
			return ActionResult{ID: id, State: StateDone, Reason: "switchover_done"}, true
		},
		History: func(q HistoryQuery) []Event {
			f.mu.Lock()
			defer f.mu.Unlock()
			var out []Event
			after := q.After == ""
			for _, e := range f.evs {
				if after {
					out = append(out, e)
				}
				after = after || e.ID == q.After
			}
			return out
		},
		Subscribe: func() (<-chan Event, func()) {
			f.mu.Lock()
			defer f.mu.Unlock()
			c := make(chan Event, 8)
			f.subs = append(f.subs, c)
			return c, func() {}
		},
		Local: func() LocalRole { f.mu.Lock(); defer f.mu.Unlock(); return f.local },
	}
}

func (f *fakeSet) add(e Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.evs = append(f.evs, e)
	for _, c := range f.subs {
		c <- e
	}
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) Problem {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, body %q", ct, w.Body)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code {
		t.Fatalf("problem %q: %v (status %d vs %d)", w.Body, err, p.Status, w.Code)
	}
	return p
}

func TestTokensReadAndAdmin(t *testing.T) {
	f := &fakeSet{}
	h := New(nil, nil, f.options("adm", "rd"))
	for _, c := range []struct {
		method, path, auth string
		code               int
	}{
		{"GET", "/v1/cluster", "", 401},
		{"GET", "/v1/cluster", "Bearer nope", 401},
		{"GET", "/v1/cluster", "Bearer rd", 200},
		{"GET", "/v1/cluster", "Bearer adm", 200},
		{"POST", "/v1/pause", "", 401},
		{"POST", "/v1/pause", "Bearer rd", 403},
		{"POST", "/v1/pause?wait=0", "Bearer adm", 202},
		{"GET", "/metrics", "", 200},
		{"GET", "/healthz", "", 200},
	} {
		w := do(h, c.method, c.path, c.auth, "")
		if w.Code != c.code {
			t.Errorf("%s %s with %q: %d %q, want %d", c.method, c.path, c.auth, w.Code, w.Body, c.code)
		}
		if w.Code == 401 || w.Code == 403 {
			if p := decodeProblem(t, w); p.Field != "Authorization" {
				t.Errorf("%s %s: problem names %q, not the Authorization header", c.method, c.path, p.Field)
			}
		}
	}
	// Without a read token reads are open, actions still need the admin token.
	h = New(nil, nil, f.options("adm", ""))
	if w := do(h, "GET", "/v1/cluster", "", ""); w.Code != 200 {
		t.Errorf("open read: %d", w.Code)
	}
	if w := do(h, "POST", "/v1/resume", "", ""); w.Code != 401 {
		t.Errorf("action without a token: %d", w.Code)
	}
}

func TestActionProblemsNameTheField(t *testing.T) {
	h := New(nil, nil, (&fakeSet{}).options("adm", ""))
	for _, c := range []struct {
		path, body, field string
		code              int
	}{
		{"/v1/switchover", `{"target": "x"}`, "target", 400},
		{"/v1/switchover", `{"to": 5}`, "to", 400},
		{"/v1/switchover", `{"actor": "bad actor!"}`, "actor", 400},
		{"/v1/switchover?dry_run=maybe", ``, "dry_run", 400},
		{"/v1/switchover?wait=soon", ``, "wait", 400},
		{"/v1/switchover", `{"to": "nobody:1"}`, "to", 404},
	} {
		w := do(h, "POST", c.path, "Bearer adm", c.body)
		if w.Code != c.code {
			t.Errorf("%s %s: %d %q, want %d", c.path, c.body, w.Code, w.Body, c.code)
			continue
		}
		if p := decodeProblem(t, w); p.Field != c.field {
			t.Errorf("%s %s: field %q, want %q (%q)", c.path, c.body, p.Field, c.field, w.Body)
		}
	}
	w := do(h, "POST", "/v1/switchover", "Bearer adm", `{"to": "lagging:1"}`)
	if p := decodeProblem(t, w); w.Code != 409 || p.Reason != "refused_target_lagging" || p.Result == nil {
		t.Errorf("refusal: %d %+v", w.Code, p)
	}
	if w := do(h, "GET", "/v1/nothing", "", ""); w.Code != 404 {
		t.Errorf("unknown path: %d", w.Code)
	} else {
		decodeProblem(t, w)
	}
	if w := do(h, "DELETE", "/v1/cluster", "", ""); w.Code != 405 || w.Header().Get("Allow") != "GET" {
		t.Errorf("wrong method: %d allow %q", w.Code, w.Header().Get("Allow"))
	}
}

func TestActionWaitsForTheExecutor(t *testing.T) {
	h := New(nil, nil, (&fakeSet{}).options("adm", ""))
	w := do(h, "POST", "/v1/switchover?dry_run=1", "Bearer adm", `{"to": "b:1"}`)
	var res ActionResult
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || w.Code != 200 || res.State != StatePlanned || len(res.Steps) != 1 {
		t.Fatalf("dry run: %d %q", w.Code, w.Body)
	}
	w = do(h, "POST", "/v1/switchover", "Bearer adm", `{"to": "b:1"}`)
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || w.Code != 200 || res.State != StateDone || res.Reason != "switchover_done" {
		t.Fatalf("waited action: %d %q", w.Code, w.Body)
	}
	w = do(h, "POST", "/v1/resync/c:1?wait=0", "Bearer adm", ``)
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || w.Code != 202 || res.To != "c:1" || w.Header().Get("Location") != "/v1/requests/r1" {
		t.Fatalf("no wait: %d %q", w.Code, w.Body)
	}
}

func TestEventsReplayThenLive(t *testing.T) {
	f := &fakeSet{}
	f.add(Event{ID: "e1", Kind: EventIncident})
	f.add(Event{ID: "e2", Kind: EventFailover})
	srv := httptest.NewServer(New(nil, nil, f.options("adm", "")))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/events", nil)
	req.Header.Set("Last-Event-ID", "e1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var ids []string
	for sc.Scan() {
		line := sc.Text()
		if line == ": live" {
			f.add(Event{ID: "e3", Kind: EventAction})
		}
		if id, ok := strings.CutPrefix(line, "id: "); ok {
			ids = append(ids, id)
			if id == "e3" {
				break
			}
		}
	}
	if strings.Join(ids, ",") != "e2,e3" {
		t.Fatalf("stream ids %v, want e2 (replayed after e1) then e3 (live)", ids)
	}
}

func TestLoadBalancerChecks(t *testing.T) {
	f := &fakeSet{}
	h := New(nil, nil, f.options("", ""))
	if w := do(h, "GET", "/primary", "", ""); w.Code != 503 {
		t.Errorf("unknown local: /primary %d", w.Code)
	}
	f.local = LocalRole{Known: true, State: "PRIMARY", Writable: true}
	if w := do(h, "GET", "/primary", "", ""); w.Code != 200 {
		t.Errorf("primary: %d", w.Code)
	}
	if w := do(h, "GET", "/secondary", "", ""); w.Code != 503 {
		t.Errorf("primary on /secondary: %d", w.Code)
	}
	f.local = LocalRole{Known: true, State: "SECONDARY", LagSecs: 12}
	if w := do(h, "GET", "/secondary", "", ""); w.Code != 200 {
		t.Errorf("secondary: %d", w.Code)
	}
	if w := do(h, "GET", "/secondary?max_lag=10s", "", ""); w.Code != 503 || !strings.Contains(w.Body.String(), "12.0s") {
		t.Errorf("lagging secondary: %d %q", w.Code, w.Body)
	}
	if w := do(h, "GET", "/secondary?max_lag=soon", "", ""); w.Code != 400 || !strings.Contains(w.Body.String(), "max_lag") {
		t.Errorf("bad max_lag: %d %q", w.Code, w.Body)
	}
}
