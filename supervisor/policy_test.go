package supervisor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

func parseConfig(t *testing.T, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("a.yaml", []byte(configYAML(t.TempDir(), threeData, 0, extra)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestPolicyMapping(t *testing.T) {
	cfg := parseConfig(t, `probe:
  failures_before_unreachable: 4
  sick_after: 7s
  sick_write_latency: 1500ms
failover:
  dry_run: true
  anti_flap_window: 10m
  fence_after: 9s
  election_quiet: 8s
  candidates:
    max_lag: 3s
    min_priority: 2
    prefer_zones: [z2]
    avoid_zones: [z3]
    require_tags: {dc: east}
`)
	p := policyFrom(cfg)
	want := election.DefaultPolicy()
	want.DryRun = true
	want.AntiFlapWindow = 10 * time.Minute
	want.FenceAfter = 9 * time.Second
	want.MaxLag = 3 * time.Second
	want.SickAfter = 7 * time.Second
	want.ProbeSlow = 1500 * time.Millisecond
	want.ProbeFailures = 4
	want.ElectionQuiet = 8 * time.Second
	if p.Enabled != want.Enabled || p.DryRun != want.DryRun || p.AntiFlapWindow != want.AntiFlapWindow ||
		p.FenceAfter != want.FenceAfter || p.MaxLag != want.MaxLag || p.SickAfter != want.SickAfter ||
		p.ProbeSlow != want.ProbeSlow || p.ProbeFailures != want.ProbeFailures ||
		p.ElectionQuiet != want.ElectionQuiet || p.PendingTimeout != want.PendingTimeout || p.SickStepDown {
		t.Errorf("policy = %+v", p)
	}
	if p.MinPriority != 2 {
		t.Errorf("min_priority not mapped: %v", p.MinPriority)
	}
	if len(p.PreferZones) != 1 || p.PreferZones[0] != "z2" || p.AvoidZones[0] != "z3" || p.RequireTags["dc"] != "east" {
		t.Errorf("candidate rules = %v %v %v", p.PreferZones, p.AvoidZones, p.RequireTags)
	}
	off := policyFrom(parseConfig(t, "failover:\n  fence_old_primary: false\n  enabled: false\n"))
	if !off.FenceDisabled || off.Enabled {
		t.Errorf("fence_old_primary false / enabled false: %+v", off)
	}
}

// loadSnapshot reads the first step of an election scenario file, with ages filled in.
func loadSnapshot(t *testing.T, name string) topology.Snapshot {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "election", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var sc struct {
		Snapshot *topology.Snapshot `json:"snapshot"`
		Steps    []struct {
			Snapshot topology.Snapshot `json:"snapshot"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(b, &sc); err != nil {
		t.Fatal(err)
	}
	snap := sc.Snapshot
	if snap == nil {
		snap = &sc.Steps[0].Snapshot
	}
	for id, v := range snap.Views {
		v.Age = snap.Now.Sub(v.View.ObservedAt)
		snap.Views[id] = v
	}
	return *snap
}

// failover.step_down_sick_primary false: a sick primary is reported, never acted on.
func TestSickPrimaryPolicyOff(t *testing.T) {
	snap := loadSnapshot(t, "sick_primary_stepup_then_fence.json")
	snap.Self = "b" // the candidate h2's own sidecar, the step-up's executor
	for _, on := range []bool{true, false} {
		cfg := parseConfig(t, "")
		cfg.Failover.StepDownSickPrimary = on
		s := &Supervisor{id: "b", cfg: cfg, policy: policyFrom(cfg), metrics: newMetrics(nil)}
		s.policy.SickAfter = 10 * time.Second
		d, exec := s.decideLocked(snap, snap.Now)
		switch {
		case on && (d.Reason != election.ReasonSickPrimary || exec.Kind != election.StepUp || exec.Executor != "b"):
			t.Errorf("on: %s, exec %s", d, exec)
		case !on && (d.Reason != election.RefusedPolicyDisabled || !exec.IsNone() || d.Proposed.Kind != election.StepUp):
			t.Errorf("off: %s, exec %s", d, exec)
		case !on && !s.state.LastFailover.At.IsZero():
			t.Errorf("off: state records a failover: %+v", s.state)
		}
	}
}

func TestStateFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", stateFile)
	if st, err := loadState(path); err != nil || !st.LastFailover.At.IsZero() {
		t.Fatalf("missing file: %+v %v", st, err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	st := election.State{LastFailover: election.Failover{At: at, Incident: election.Incident{Primary: h1, Term: 3}, To: h2},
		AckAt: at.Add(time.Minute), Pending: election.Pending{Action: election.Action{Kind: election.StepUp, Host: h2}}}
	if err := saveState(path, st); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(path)
	if err != nil || got.LastFailover != st.LastFailover || !got.AckAt.Equal(st.AckAt) || !got.Pending.Action.IsNone() {
		t.Errorf("round trip: %+v %v", got, err)
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadState(path); err == nil {
		t.Error("corrupt state accepted")
	}
}

func TestGossipProfileSetsProbeInterval(t *testing.T) {
	for profile, want := range map[config.GossipProfile]time.Duration{config.ProfileLocal: 200 * time.Millisecond,
		config.ProfileLAN: 500 * time.Millisecond, config.ProfileWAN: 2 * time.Second} {
		cfg := parseConfig(t, "")
		cfg.Gossip.Profile = profile
		o, err := gossipOptions(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if o.ProbeInterval != want {
			t.Errorf("profile %s: probe interval %v, want %v", profile, o.ProbeInterval, want)
		}
	}
}
