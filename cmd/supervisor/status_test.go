package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/supervisor"
	"github.com/rsguard/rsguard/topology"
)

// failoverReport is a coordinator's report right after it stepped up 127.0.0.3.
func failoverReport() supervisor.StatusReport {
	now := time.Date(2025, 3, 1, 12, 0, 5, 0, time.UTC)
	ot := topology.MakeOpTime(uint32(now.Unix()), 7, 1)
	step := election.Action{Kind: election.StepUp, Host: "127.0.0.3:27017", Sidecar: "node-b"}
	seen := func(a, b, c string) map[string]supervisor.Seen {
		m := map[string]supervisor.Seen{}
		for id, s := range map[string]string{"arbiter": a, "node-a": b, "node-b": c} {
			switch s {
			case "no":
				m[id] = supervisor.Seen{Reach: "no"}
			default:
				m[id] = supervisor.Seen{Reach: "yes", State: s}
			}
		}
		return m
	}
	return supervisor.StatusReport{
		Time: now, Sidecar: "arbiter", Mode: topology.ModeArbiter, Set: "rs0", Ready: true, NotReady: []string{},
		Coordinator: "arbiter", IsCoordinator: true,
		Quorum: supervisor.QuorumStatus{Configured: 4, Needed: 3, Visible: []string{"arbiter", "node-a", "node-b"}, Has: true},
		Analysis: election.Analysis{Kind: election.PrimaryProcessDead, Primary: "127.0.0.2:27017", Term: 1,
			Evidence: []string{"node-a: own mongod 127.0.0.2:27017 unreachable (refused)", "node-b: cannot reach 127.0.0.2:27017"}},
		Decision: supervisor.DecisionStatus{At: now, Action: step, Proposed: step, Reason: election.ReasonPrimaryProcessDead},
		LastAction: &supervisor.ActionRecord{At: now, Action: step, Analysis: election.PrimaryProcessDead,
			Reason: election.ReasonPrimaryProcessDead, Result: supervisor.ResultExecuted, Millis: 4},
		Members: []supervisor.MemberRow{
			{Sidecar: "node-a", Mode: topology.ModeData, Host: "127.0.0.2:27017", State: "UNKNOWN", SidecarAlive: true,
				SidecarVisible: true, ViewAgeSeconds: 0.2, SeenBy: seen("no", "no", "no")},
			{Sidecar: "node-b", Mode: topology.ModeData, Host: "127.0.0.3:27017", State: "SECONDARY", OpTime: ot,
				SidecarAlive: true, SidecarVisible: true, ViewAgeSeconds: 0.1, SeenBy: seen("SECONDARY", "SECONDARY", "SECONDARY")},
			{Sidecar: "node-c", Mode: topology.ModeData, Host: "127.0.0.4:27017", State: "SECONDARY", OpTime: ot,
				LagSeconds: 2, ViewAgeSeconds: 9.5, SeenBy: seen("SECONDARY", "SECONDARY", "SECONDARY")},
			{Sidecar: "arbiter", Mode: topology.ModeArbiter, SidecarAlive: true, SidecarVisible: true},
		},
		Policy: supervisor.PolicySummary{Enabled: true, AntiFlapWindow: "5m0s", FenceAfter: "20s"},
	}
}

func statusServer(t *testing.T, r supervisor.StatusReport) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/status" {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStatusTable(t *testing.T) {
	srv := statusServer(t, failoverReport())
	code, out, errs := runMain(t, "status", "--sidecar", "--addr", srv.URL)
	if code != exitFailed { // ready, quorum, but the analysis is not healthy
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	t.Logf("output:\n%s", out)
	for _, want := range []string{
		"sidecar arbiter (arbiter, set rs0) at " + srv.URL + ": ready",
		// members: host, state, optime, lag, sidecar view
		"MEMBER           SIDECAR  STATE      OPTIME",
		"127.0.0.3:27017  node-b   SECONDARY  " + time.Date(2025, 3, 1, 12, 0, 5, 0, time.UTC).Local().Format("15:04:05") + " #7 t1  0s   ok (0.1s)",
		"DOWN (view 9.5s old)",
		// who sees what
		"SEEN BY          ARBITER      NODE-A       NODE-B",
		"127.0.0.2:27017  UNREACHABLE  UNREACHABLE  UNREACHABLE",
		// analysis, decision, coordinator, quorum
		"analysis:     primary_process_dead (primary 127.0.0.2:27017, term 1)",
		"its own sidecar gets connection refused",
		"  evidence:   node-a: own mongod 127.0.0.2:27017 unreachable (refused)",
		"decision:     step_up(127.0.0.3:27017), reason primary_process_dead",
		"last action:  step_up(127.0.0.3:27017) executed in 4ms",
		"coordinator:  arbiter (this sidecar)",
		"quorum:       3 of 4 sidecars visible (arbiter, node-a, node-b), 3 needed: has quorum",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestStatusNotReady(t *testing.T) {
	r := failoverReport()
	r.Ready, r.NotReady = false, []string{"local mongod 127.0.0.2:27017 has not answered yet"}
	r.Coordinator, r.IsCoordinator, r.Quorum.Has = "", false, false
	srv := statusServer(t, r)
	code, out, _ := runMain(t, "status", "--sidecar", "--addr", strings.TrimPrefix(srv.URL, "http://"))
	if code != exitUsage { // no quorum

		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{": NOT READY", "  not ready: local mongod 127.0.0.2:27017 has not answered yet",
		"coordinator:  none (no quorum)", "NO QUORUM"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestStatusJSON(t *testing.T) {
	srv := statusServer(t, failoverReport())
	code, out, _ := runMain(t, "status", "--sidecar", "-o", "json", "--addr", srv.URL)
	var back supervisor.StatusReport
	if code != exitFailed || json.Unmarshal([]byte(out), &back) != nil || back.Analysis.Kind != election.PrimaryProcessDead {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	if !strings.Contains(out, "\n  \"sidecar\": \"arbiter\"") {
		t.Errorf("JSON is not indented:\n%s", out)
	}
}

func TestStatusUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	code, _, errs := runMain(t, "status", "--sidecar", "--addr", addr)
	if code != exitUsage || !strings.Contains(errs, "cannot get the status of the sidecar at "+addr) {
		t.Fatalf("exit %d, stderr: %s", code, errs)
	}
	// A server that is not a sidecar: the status line is in the message.
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	code, _, errs = runMain(t, "status", "--sidecar", "--addr", other.URL)
	if code != exitUsage || !strings.Contains(errs, "404 Not Found") {
		t.Fatalf("exit %d, stderr: %s", code, errs)
	}
}

// TestStatusElectionQuiet: the status shows the election-quiet period, and while a term is young
// the time left, and narrates a quiet period without claiming that MongoDB is electing.
func TestStatusElectionQuiet(t *testing.T) {
	r := failoverReport()
	r.Analysis = election.Analysis{Kind: election.ElectionQuietPeriod, Evidence: []string{"node-b: own mongod 127.0.0.3:27017: term 2 began 4s ago"}}
	r.Decision = supervisor.DecisionStatus{At: r.Time, Action: election.Action{Kind: election.None}, Proposed: election.Action{Kind: election.None}, Reason: election.RefusedElectionQuiet}
	r.Policy.ElectionQuiet = "12s"
	r.Policy.ElectionQuietUntil, r.Policy.ElectionQuietTerm = r.Time.Add(8*time.Second), 2
	srv := statusServer(t, r)
	code, out, _ := runMain(t, "status", "--sidecar", "--addr", srv.URL)
	if code != exitFailed {
		t.Fatalf("exit %d", code)
	}
	t.Logf("output:\n%s", out)
	for _, want := range []string{"election quiet: 12s after a term begins; term 2 began recently, quiet for 8s more",
		"analysis:     election_quiet_period", "nobody is electing"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "MongoDB is electing") {
		t.Errorf("a quiet period is narrated as an election:\n%s", out)
	}
}
