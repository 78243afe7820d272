package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/supervisor"
)

var t6 = time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)

// TestHistory: the query (a duration becomes an RFC 3339 time), the table and the JSON.
func TestHistory(t *testing.T) {
	f := newContractFake(t)
	f.answer("GET /v1/history", 200, api.History{Events: []api.Event{
		{ID: "e1", Time: t6, Kind: api.EventFailover, Summary: "failover to 127.0.0.3:27017", Reason: "primary_process_dead"},
		{ID: "e2", Time: t6.Add(time.Minute), Kind: api.EventPause, Summary: "paused", Actor: "operator:alice"},
	}})
	code, out, errs := runMain(t, "history", "--addr", f.URL, "--since", "2026-12-03T05:00:00Z", "--limit", "5", "--kind", "failover")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	if r := f.only(t); r.Path != "/v1/history" || r.Query != "kind=failover&limit=5&since=2026-12-03T05%3A00%3A00Z" {
		t.Errorf("request %+v", r)
	}
	for _, want := range []string{
		"TIME                 KIND      SUMMARY                      REASON                ACTOR           ID",
		t6.Local().Format("2006-01-02 15:04:05") + "  failover  failover to 127.0.0.3:27017  primary_process_dead  -               e1",
		"pause     paused                       -                     operator:alice  e2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	before := time.Now()
	code, out, _ = runMain(t, "history", "--addr", f.URL, "--since", "2h", "-o", "json")
	var h api.History
	if code != exitOK || json.Unmarshal([]byte(out), &h) != nil || len(h.Events) != 2 {
		t.Fatalf("-o json: exit %d, output %s", code, out)
	}
	rs := f.requests()
	since, err := time.Parse(time.RFC3339, strings.TrimPrefix(strings.ReplaceAll(rs[1].Query, "%3A", ":"), "since="))
	if err != nil || since.Before(before.Add(-2*time.Hour-time.Second)) || since.After(time.Now().Add(-2*time.Hour)) {
		t.Errorf("--since 2h sent %q", rs[1].Query)
	}
	if code, _, errs := runMain(t, "history", "--addr", f.URL, "--since", "yesterday"); code != exitUsage || !strings.Contains(errs, `--since "yesterday"`) {
		t.Errorf("bad --since: exit %d, stderr %s", code, errs)
	}
}

// TestEvents: the stream is followed across a reconnection (Last-Event-ID is the last event
// printed) until Ctrl-C, which exits 0; table lines and JSON lines.
func TestEvents(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		f := newContractFake(t)
		ctx, cancel := context.WithCancel(context.Background())
		var conns atomic.Int32
		f.mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			if conns.Add(1) > 1 {
				cancel() // the operator's Ctrl-C, once the first stream was read to its end
				<-r.Context().Done()
				return
			}
			fmt.Fprintf(w, "id: e1\nevent: failover\ndata: {\"id\":\"e1\",\"time\":%q,\"kind\":\"failover\",\"summary\":\"failover to 127.0.0.3:27017\"}\n\n", t6.Format(time.RFC3339))
			fmt.Fprintf(w, "id: e2\nevent: pause\ndata: {\"id\":\"e2\",\"time\":%q,\"kind\":\"pause\",\"summary\":\"paused\",\"actor\":\"operator:alice\"}\n\n", t6.Format(time.RFC3339))
		})
		code, out, errs := runMainCtx(ctx, "events", "--addr", f.URL, "--after", "e0", "-o", format)
		cancel()
		if code != exitOK {
			t.Fatalf("%s: exit %d, stderr %s", format, code, errs)
		}
		rs := f.requests()
		if len(rs) != 2 || rs[0].LastEventID != "e0" || rs[1].LastEventID != "e2" {
			t.Errorf("%s: requests %+v", format, rs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if format == "json" {
			var ev api.Event
			if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &ev) != nil || ev.ID != "e2" || ev.Actor != "operator:alice" {
				t.Errorf("JSON lines:\n%s", out)
			}
			continue
		}
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME  KIND") || !strings.Contains(lines[1], "  failover  failover to 127.0.0.3:27017  -  -  e1") ||
			!strings.Contains(lines[2], "  pause  paused  -  operator:alice  e2") {
			t.Errorf("table lines:\n%s", out)
		}
	}
	f := newContractFake(t)
	f.answer("GET /v1/events", 401, api.Problem{Title: "unauthorized", Status: 401})
	if code, _, errs := runMain(t, "events", "--addr", f.URL); code != exitUsage || !strings.Contains(errs, "401 Unauthorized") {
		t.Errorf("401: exit %d, stderr %s", code, errs)
	}
}

func TestAuditAndRequest(t *testing.T) {
	f := newContractFake(t)
	f.answer("GET /v1/audit", 200, api.Audit{Sidecar: "node-a", Records: []any{map[string]any{"event": "failover", "to": "127.0.0.3:27017"}}})
	f.answer("GET /v1/requests/r-12", 200, switchoverDone())
	f.answer("GET /v1/requests/r-13", 200, api.ActionResult{ID: "r-13", Action: "failover", State: api.StateRefused, Reason: "anti_flap"})
	f.answer("GET /v1/requests/r-99", 404, api.Problem{Title: "unknown request", Status: 404})
	code, out, _ := runMain(t, "audit", "--addr", f.URL, "--limit", "20")
	if code != exitOK || f.only(t).Query != "limit=20" ||
		out != "sidecar node-a: 1 audit records, oldest first\n{\"event\":\"failover\",\"to\":\"127.0.0.3:27017\"}\n" {
		t.Errorf("audit: exit %d, output %q", code, out)
	}
	code, out, _ = runMain(t, "audit", "--addr", f.URL, "-o", "json")
	var a api.Audit
	if code != exitOK || json.Unmarshal([]byte(out), &a) != nil || a.Sidecar != "node-a" {
		t.Errorf("audit -o json: exit %d, output %s", code, out)
	}
	if code, out, _ := runMain(t, "request", "r-12", "--addr", f.URL); code != exitOK || !strings.Contains(out, "switchover done (switchover_done)") {
		t.Errorf("request r-12: exit %d, output %s", code, out)
	}
	if code, out, _ := runMain(t, "request", "r-13", "--addr", f.URL); code != exitFailed || !strings.Contains(out, "failover REFUSED (anti_flap)") {
		t.Errorf("request r-13: exit %d, output %s", code, out)
	}
	if code, _, errs := runMain(t, "request", "r-99", "--addr", f.URL); code != exitUsage || !strings.Contains(errs, "404 Not Found: unknown request") {
		t.Errorf("request r-99: exit %d, stderr %s", code, errs)
	}
}

// TestResyncWatch: `resync watch` still reads /v1/status and reports the plan that ended.
func TestResyncWatch(t *testing.T) {
	f := newContractFake(t)
	plan := &recovery.ResyncPlan{ID: "rs-1", Member: "127.0.0.4:27017", Step: recovery.StepDone, Started: t6, Finished: t6.Add(42 * time.Second)}
	f.answer("GET /v1/status", 200, supervisor.StatusReport{Sidecar: "node-c", Resync: &supervisor.ResyncStatus{Plan: plan}})
	code, out, errs := runMain(t, "resync", "watch", "--addr", f.URL, "--wait", "0s", "--token-file", tokenFile(t, "rd"))
	if code != exitOK || out != "resync rs-1 of 127.0.0.4:27017 done in 42s: SECONDARY, caught up\n" || f.only(t).Auth != "Bearer rd" {
		t.Errorf("exit %d, output %q, stderr %s", code, out, errs)
	}
	f.Close()
	if code, _, _ := runMain(t, "resync", "watch", "--addr", f.URL); code != exitUsage {
		t.Errorf("unreachable: exit %d", code)
	}
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := runMain(t, "--version")
	if code != exitOK || !strings.HasPrefix(out, "supervisor ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	_, want, _ := runMain(t, "--help")
	code, out, _ = runMain(t, "help")
	if code != exitOK || out != want || !strings.Contains(out, "switchover") {
		t.Errorf("help: exit %d, output differs from --help:\n%s", code, out)
	}
	_, want, _ = runMain(t, "history", "--help")
	if code, out, _ := runMain(t, "help", "history"); code != exitOK || out != want || !strings.Contains(out, "--kind=KIND") {
		t.Errorf("help history: exit %d:\n%s", code, out)
	}
}
