package supervisor

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo/mongotest"
)

func apiFor(c *cluster, id, token string) http.Handler {
	s := c.sups[id]
	return api.New(nil, nil, api.Options{
		Status:     func() any { return s.Status() },
		Ready:      s.Ready,
		Cluster:    s.Cluster,
		Act:        s.Act,
		Request:    s.Request,
		History:    s.History,
		Subscribe:  s.Subscribe,
		Audit:      s.Audit,
		Local:      s.Local,
		AdminToken: token,
		Gatherer:   c.regs[id],
		Warnings:   s.Warnings,
	})
}

func post(h http.Handler, target, token, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", target, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// A second failover within the anti-flap window is refused until an operator acknowledges the
// first through the API; without a configured token the API refuses to acknowledge at all.
func TestAntiFlapUntilAcknowledgedThroughAPI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)

		w.kill(h1)
		waitFor(t, 15*time.Second, "first failover", func() bool { return w.calls(h2, mongotest.OpStepUp) == 1 })
		c.waitHealthy(h2)
		w.revive(h1) // back as a secondary
		time.Sleep(15 * time.Second)
		c.waitHealthy(h2)

		w.kill(h2)
		waitFor(t, 15*time.Second, "anti-flap refusal", func() bool {
			return c.status("a").Decision.Reason == election.RefusedAntiFlap
		})
		st := c.status("a")
		if st.Policy.AntiFlapUntil.IsZero() || st.Policy.LastFailover.To != h2 {
			t.Errorf("policy summary: %+v", st.Policy)
		}
		time.Sleep(5 * time.Second)
		if n := w.calls(h1, mongotest.OpStepUp) + w.calls(h3, mongotest.OpStepUp); n != 0 {
			t.Fatalf("second failover executed inside the anti-flap window (%d step-ups)", n)
		}
		if recs := c.findAudit("a", election.StepUp, election.RefusedAntiFlap); len(recs) != 1 {
			t.Errorf("anti-flap refusal audited %d times, want once: %+v", len(recs), c.audit("a"))
		}

		noToken := apiFor(c, "a", "")
		if r := post(noToken, "/v1/acknowledge", "anything", `{"actor":"alice"}`); r.Code != http.StatusForbidden ||
			!strings.Contains(r.Body.String(), "no admin token") {
			t.Errorf("acknowledge without a configured token: %d %q", r.Code, r.Body)
		}
		withToken := apiFor(c, "a", "tok3n")
		if r := post(withToken, "/v1/acknowledge", "", `{"actor":"alice"}`); r.Code != http.StatusUnauthorized {
			t.Errorf("acknowledge without a bearer: %d", r.Code)
		}
		if r := post(withToken, "/v1/acknowledge", "wrong", `{"actor":"alice"}`); r.Code != http.StatusUnauthorized {
			t.Errorf("acknowledge with a wrong bearer: %d", r.Code)
		}
		time.Sleep(3 * time.Second)
		if n := w.calls(h1, mongotest.OpStepUp) + w.calls(h3, mongotest.OpStepUp); n != 0 {
			t.Fatalf("failover after a refused acknowledgement")
		}
		if r := post(withToken, "/v1/acknowledge", "tok3n", `{"actor":"alice"}`); r.Code != http.StatusOK {
			t.Fatalf("acknowledge: %d %q", r.Code, r.Body)
		}
		waitFor(t, 10*time.Second, "second failover", func() bool {
			return w.calls(h1, mongotest.OpStepUp)+w.calls(h3, mongotest.OpStepUp) == 1
		})
		var ack []AuditRecord
		for _, r := range c.audit("a") {
			if r.Reason == ReasonAcknowledged {
				ack = append(ack, r)
			}
		}
		if len(ack) != 1 || ack[0].Actor != "operator:alice" || ack[0].Decision.Action != ActionAcknowledge {
			t.Errorf("acknowledgement audit: %+v", ack)
		}
		if st := c.status("a"); st.Policy.AcknowledgedAt.IsZero() {
			t.Errorf("status lacks the acknowledgement: %+v", st.Policy)
		}
	})
}

// The status document carries what an operator needs, under stable JSON names.
func TestStatusJSONAndMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)
		time.Sleep(3 * time.Second)

		h := apiFor(c, "b", "")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/status", nil))
		if rec.Code != 200 {
			t.Fatalf("status: %d", rec.Code)
		}
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"sidecar", "mode", "set", "ready", "not_ready", "coordinator", "quorum",
			"analysis", "last_decision", "members", "policy", "write_probe", "local", "gossip"} {
			if _, ok := doc[k]; !ok {
				t.Errorf("status lacks %q: %s", k, rec.Body)
			}
		}
		if doc["sidecar"] != "b" || doc["ready"] != true || doc["coordinator"] != "a" || doc["set"] != "rs0" {
			t.Errorf("status header: %v", doc)
		}
		q := doc["quorum"].(map[string]any)
		if q["needed"].(float64) != 3 || len(q["visible"].([]any)) != 4 {
			t.Errorf("quorum: %v", q)
		}
		an := doc["analysis"].(map[string]any)
		if an["kind"] != "healthy" || an["primary"] != h1 || an["evidence"] == nil {
			t.Errorf("analysis: %v", an)
		}
		if ld := doc["last_decision"].(map[string]any); ld["reason"] != "healthy" {
			t.Errorf("last decision: %v", ld)
		}
		pol := doc["policy"].(map[string]any)
		if pol["enabled"] != true || pol["dry_run"] != false || pol["anti_flap_window"] != "5m0s" {
			t.Errorf("policy: %v", pol)
		}
		members := doc["members"].([]any)
		if len(members) != 4 {
			t.Fatalf("members: %v", members)
		}
		m0 := members[0].(map[string]any)
		if m0["host"] != h1 || m0["state"] != "PRIMARY" || m0["source"] != "own_sidecar" || m0["sidecar_alive"] != true {
			t.Errorf("member row: %v", m0)
		}
		seen := m0["seen_by"].(map[string]any)
		if len(seen) != 4 || seen["d"].(map[string]any)["reach"] != "yes" {
			t.Errorf("seen_by: %v", seen)
		}
		if m2 := members[2].(map[string]any); m2["lag_seconds"] == nil || m2["optime"] == nil {
			t.Errorf("member row: %v", m2)
		}

		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body := rec.Body.String()
		for _, want := range []string{
			`rsguard_supervisor_member_state{member="127.0.0.2:27017"} 1`,
			`rsguard_supervisor_member_state{member="127.0.0.4:27017"} 2`,
			`rsguard_supervisor_member_lag_seconds{member="127.0.0.3:27017"}`,
			`rsguard_supervisor_write_probe_latency_seconds_count`,
			`rsguard_supervisor_decisions_total{action="none",reason="healthy"}`,
			`rsguard_supervisor_ready 1`,
			`rsguard_supervisor_analysis{kind="healthy"} 1`,
			`rsguard_supervisor_analysis{kind="primary_process_dead"} 0`,
			`rsguard_heartbeat_settled 1`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if _, ok := metric(t, c.regs["b"], "rsguard_supervisor_failover_duration_seconds"); !ok {
			t.Error("failover duration histogram not registered")
		}
	})
}
