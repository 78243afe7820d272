package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/api"
)

func degradedCluster() api.Cluster {
	return api.Cluster{
		Time: time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC), Set: "rs0", Sidecar: "node-a", Coordinator: "node-b",
		Health: api.HealthDegraded, Problems: []string{"member 127.0.0.4:27017 is DOWN", "automatic failover blocked: anti_flap"},
		Primary: "127.0.0.3:27017", Term: 4,
		Quorum:            api.Quorum{Configured: 4, Needed: 3, Visible: []string{"arbiter", "node-a", "node-b"}, Has: true},
		Paused:            &api.Pause{By: "operator:alice", At: time.Date(2026, 12, 3, 5, 59, 0, 0, time.UTC), Why: "patching"},
		AutomaticFailover: api.Automatic{Enabled: true, Blocked: []string{"operator_paused", "anti_flap"}},
		Members: []api.Member{
			{Host: "127.0.0.3:27017", Sidecar: "node-b", State: "PRIMARY", Healthy: true, Priority: 1, Votes: 1,
				SeenBy: []string{"node-a", "node-b", "arbiter"}, UnseenBy: []string{}},
			{Host: "127.0.0.4:27017", Sidecar: "node-c", State: "DOWN", Healthy: false, LagSecs: 12.5, Priority: 0.5, Votes: 1,
				SeenBy: []string{}, UnseenBy: []string{"node-a", "node-b"}, Class: "dead"},
			{Host: "127.0.0.5:27017", State: "ARBITER", Healthy: true, Votes: 1, Arbiter: true, SeenBy: []string{"node-a"}},
		},
		Sidecars: []api.Sidecar{{ID: "node-a", Mode: "data", Alive: true, Ready: true, AgeSecs: 0.2, Mongod: "127.0.0.2:27017"},
			{ID: "node-c", Mode: "data", AgeSecs: -1}},
		LastFailover: &api.Failover{At: time.Date(2026, 12, 3, 5, 58, 0, 0, time.UTC), To: "127.0.0.3:27017", By: "node-b", Reason: "primary_process_dead"},
		Analysis:     api.Analysis{Kind: "healthy", Primary: "127.0.0.3:27017"},
	}
}

// TestStatusCluster: the whole set from /v1/cluster with the token from RSGUARD_TOKEN and the
// address from RSGUARD_ADDR; a degraded set exits 1.
func TestStatusCluster(t *testing.T) {
	f := newContractFake(t)
	f.answer("GET /v1/cluster", 200, degradedCluster())
	t.Setenv("RSGUARD_TOKEN", "read-tok")
	t.Setenv("RSGUARD_ADDR", f.URL)
	code, out, errs := runMain(t, "status")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (degraded); stderr %s", code, errs)
	}
	if r := f.only(t); r.Path != "/v1/cluster" || r.Auth != "Bearer read-tok" {
		t.Errorf("request %+v", r)
	}
	t.Logf("output:\n%s", out)
	for _, want := range []string{
		"set rs0: DEGRADED (as seen by sidecar node-a at " + f.URL,
		"primary:            127.0.0.3:27017, term 4",
		"coordinator:        node-b",
		"quorum:             3 of 4 sidecars visible (arbiter, node-a, node-b), 3 needed: has quorum",
		"automatic failover: BLOCKED: operator_paused, anti_flap",
		"paused:             PAUSED by operator:alice at ",
		": patching (no automatic action until resumed)",
		"last failover:      ",
		"to 127.0.0.3:27017 by node-b, reason primary_process_dead",
		"problems:\n  - member 127.0.0.4:27017 is DOWN\n  - automatic failover blocked: anti_flap",
		"HOST             SIDECAR  STATE        HEALTHY  LAG    PRIORITY  VOTES  SEEN BY                NOT SEEN BY",
		"127.0.0.3:27017  node-b   PRIMARY      yes      0s     1         1      node-a,node-b,arbiter  -",
		"127.0.0.4:27017  node-c   DOWN [dead]  NO       12.5s  0.5       1      -                      node-a,node-b",
		"127.0.0.5:27017  -        ARBITER      yes      -      0         1      node-a                 -",
		"SIDECAR  MODE  ALIVE  READY  VIEW AGE  MONGOD",
		"node-a   data  yes    yes    0.2s      127.0.0.2:27017",
		"node-c   data  NO     NO     never     -",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestStatusExitCodes: 0 healthy, 1 degraded, 2 critical, unreachable or a refused token; -o
// json prints the cluster.
func TestStatusExitCodes(t *testing.T) {
	for _, tc := range []struct {
		health string
		code   int
	}{{api.HealthHealthy, exitOK}, {api.HealthDegraded, exitFailed}, {api.HealthCritical, exitUsage}} {
		f := newContractFake(t)
		c := degradedCluster()
		c.Health = tc.health
		f.answer("GET /v1/cluster", 200, c)
		code, out, _ := runMain(t, "status", "--addr", f.URL, "-o", "json")
		var back api.Cluster
		if code != tc.code || json.Unmarshal([]byte(out), &back) != nil || back.Health != tc.health || back.Members[1].LagSecs != 12.5 {
			t.Errorf("%s: exit %d (want %d), output %s", tc.health, code, tc.code, out)
		}
	}
	// No primary, or no quorum, is critical whatever the level says.
	for _, mutate := range []func(*api.Cluster){func(c *api.Cluster) { c.Primary = "" }, func(c *api.Cluster) { c.Quorum.Has = false }} {
		f := newContractFake(t)
		c := degradedCluster()
		c.Health = api.HealthHealthy
		mutate(&c)
		f.answer("GET /v1/cluster", 200, c)
		if code, out, _ := runMain(t, "status", "--addr", f.URL); code != exitUsage {
			t.Errorf("exit %d, want 2:\n%s", code, out)
		}
	}
	f := newContractFake(t)
	f.answer("GET /v1/cluster", 401, api.Problem{Title: "unauthorized", Status: 401, Detail: "wrong token"})
	code, out, errs := runMain(t, "status", "--addr", f.URL, "-o", "json")
	var p api.Problem
	if code != exitUsage || !strings.Contains(errs, "401 Unauthorized: wrong token") || json.Unmarshal([]byte(out), &p) != nil || p.Status != 401 {
		t.Errorf("401: exit %d, stdout %s, stderr %s", code, out, errs)
	}
	f.Close()
	code, _, errs = runMain(t, "status", "--addr", f.URL)
	if code != exitUsage || !strings.Contains(errs, "cannot get the state of the set from the sidecar at "+f.URL) {
		t.Errorf("unreachable: exit %d, stderr %s", code, errs)
	}
	// A bad address is a usage error naming the flag.
	code, _, errs = runMain(t, "status", "--addr", "ftp://x:1")
	if code != exitUsage || !strings.Contains(errs, `--addr "ftp://x:1": scheme "ftp"`) {
		t.Errorf("bad --addr: exit %d, stderr %s", code, errs)
	}
	code, _, errs = runMain(t, "status", "--ca-file", "/nonexistent/ca.pem")
	if code != exitUsage || !strings.Contains(errs, "--ca-file: open /nonexistent/ca.pem") {
		t.Errorf("bad --ca-file: exit %d, stderr %s", code, errs)
	}
	code, _, errs = runMain(t, "status", "--token-file", "/nonexistent/token")
	if code != exitUsage || !strings.Contains(errs, "--token-file: open /nonexistent/token") {
		t.Errorf("bad --token-file: exit %d, stderr %s", code, errs)
	}
}
