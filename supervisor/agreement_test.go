package supervisor

import (
	"maps"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo/mongotest"
	"github.com/rsguard/rsguard/topology"
)

// newClusterEach starts the sidecars of ms, sidecar i with extra[i] appended to its file.
func newClusterEach(t *testing.T, w *world, ms []member, extra map[string]string) *cluster {
	t.Helper()
	c := newCluster(t, w, nil, "")
	c.ms = ms
	for i, m := range ms {
		c.add(i, extra[m.id])
	}
	return c
}

// Must not fire: files that differ only in per-sidecar keys (log level, probe timeout, HTTP
// listener, gossip settle; ids, state_dir and gossip.bind differ anyway) never produce a drift.
func TestConfigAgreementIgnoresPerSidecarKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newClusterEach(t, w, threeData, map[string]string{
			"b": "log:\n  level: debug\nprobe:\n  timeout: 500ms\n",
			"d": "http:\n  listen: 127.0.0.5:9300\nlog:\n  format: text\n",
		})
		defer c.stop()
		c.waitHealthy(h1)
		time.Sleep(5 * time.Second) // fake time: several pushes and decisions
		sum := c.status("a").ConfigAgreement.Fingerprint
		for _, id := range []string{"a", "b", "c", "d"} {
			st := c.status(id)
			if !st.Ready || len(st.ConfigAgreement.Drift) > 0 || st.ConfigAgreement.Fingerprint != sum || sum == "" {
				t.Errorf("%s: ready %v, reasons %q, agreement %+v (a has %q)", id, st.Ready, st.NotReady, st.ConfigAgreement, sum)
			}
			if v, _ := metric(t, c.regs[id], "rsguard_supervisor_config_drift"); v != 0 {
				t.Errorf("%s: drift gauges sum to %v", id, v)
			}
			if v, ok := metric(t, c.regs[id], "rsguard_supervisor_config_fingerprint_info", "fingerprint", sum); !ok || v != 1 {
				t.Errorf("%s: fingerprint info %v %v", id, v, ok)
			}
		}
		// While all agree only the fingerprint travels, not the per-key digests.
		for id, v := range c.sups["a"].gossip.Views() {
			if v.View.Cfg.Sum != sum || len(v.View.Cfg.Keys) > 0 {
				t.Errorf("a holds %s's view with config print %+v", id, v.View.Cfg)
			}
		}
	})
}

// One sidecar with another anti-flap window: every sidecar is not ready, the reason names the
// drifted sidecar (on the others) or the others (on it) and the key; nobody acts when the primary
// then dies; a reload of the agreeing file makes them all ready again.
func TestConfigDriftMakesEverySidecarNotReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newClusterEach(t, w, threeData, map[string]string{"d": "failover:\n  anti_flap_window: 10m\n"})
		defer c.stop()
		const key = "failover.anti_flap_window"
		waitFor(t, 30*time.Second, "every sidecar not ready, naming the drift", func() bool {
			for _, id := range []string{"a", "b", "c"} {
				// Coordinator: the views gossiped since say NotReady, so nobody coordinates.
				if st := c.status(id); st.Ready || !hasReason(st.NotReady, "config drift with d: "+key+" (") || st.Coordinator != "" {
					return false
				}
			}
			st := c.status("d")
			for _, peer := range []string{"a", "b", "c"} {
				if !hasReason(st.NotReady, "config drift with "+peer+": "+key) {
					return false
				}
			}
			return !st.Ready
		})
		st := c.status("a")
		if len(st.ConfigAgreement.Drift) != 1 || st.ConfigAgreement.Drift[0].Peer != "d" ||
			!slices.Equal(st.ConfigAgreement.Drift[0].Keys, []string{key}) {
			t.Errorf("a: config_agreement %+v", st.ConfigAgreement)
		}
		if v, _ := metric(t, c.regs["a"], "rsguard_supervisor_config_drift", "peer", "d"); v != 1 {
			t.Errorf("a: drift gauge for d %v", v)
		}
		if v, _ := metric(t, c.regs["a"], "rsguard_supervisor_config_drift", "peer", "b"); v != 0 {
			t.Errorf("a: drift gauge for b %v", v)
		}

		w.kill(h1)
		time.Sleep(15 * time.Second) // fake time: far past detection and the quiet period
		if n := w.calls(h2, mongotest.OpStepUp) + w.calls(h3, mongotest.OpStepUp); n != 0 {
			t.Errorf("%d step-ups sent by sidecars whose configs drift", n)
		}
		if st := c.status("b"); st.Decision.Reason != ReasonNotReady {
			t.Errorf("b decided %s (%s)", st.Decision.Reason, st.Analysis.Kind)
		}

		// The operator fixes d's file and reloads it: the drift clears everywhere.
		w.revive(h1)
		fixed, err := config.Parse("d.yaml", []byte(configYAML(c.dir, c.ms, 3, "")))
		if err != nil {
			t.Fatal(err)
		}
		next, changed, err := c.sups["d"].opts.Config.ApplyPolicy(fixed)
		if err != nil || !slices.Equal(changed, []string{key}) {
			t.Fatalf("ApplyPolicy: %v, changed %v", err, changed)
		}
		if err := c.sups["d"].Reload(next); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "every sidecar ready again", func() bool {
			for _, id := range []string{"a", "b", "c", "d"} {
				if st := c.status(id); !st.Ready || len(st.ConfigAgreement.Drift) > 0 {
					return false
				}
			}
			return true
		})
		if v, _ := metric(t, c.regs["a"], "rsguard_supervisor_config_drift", "peer", "d"); v != 0 {
			t.Errorf("a: drift gauge for d %v after the fix", v)
		}
		if st := c.status("a"); st.Analysis.Kind != election.Healthy && st.Analysis.Kind != election.ElectionInProgress {
			t.Logf("a after the fix: %s", st.Analysis.Kind) // the set's own election may still run
		}
	})
}

// A drifted sidecar that starts after its peers sees the drift before it has ever published its
// view; it must publish anyway (marked NotReady), or its peers would never learn of the drift.
func TestLateDriftedSidecarIsSeen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, nil, "")
		c.ms = threeData
		for i := range 3 {
			c.add(i, "")
		}
		defer c.stop()
		waitFor(t, 30*time.Second, "a, b, c ready", func() bool {
			return c.status("a").Ready && c.status("b").Ready && c.status("c").Ready
		})
		c.add(3, "probe:\n  sick_after: 9s\n")
		waitFor(t, 30*time.Second, "a, b and c not ready, naming d", func() bool {
			for _, id := range []string{"a", "b", "c"} {
				if st := c.status(id); st.Ready || !hasReason(st.NotReady, "config drift with d: probe.sick_after") {
					return false
				}
			}
			return hasReason(c.status("d").NotReady, "config drift with a: probe.sick_after")
		})
	})
}

// compare: peers of another release (a key only one side digests) agree; a differing
// fingerprint without digests is drift with keys not known yet; views without a print (older
// releases) and invisible peers are not compared.
func TestConfigDriftCompare(t *testing.T) {
	cfg, err := config.Parse("a.yaml", []byte(configYAML(t.TempDir(), threeData, 0, "")))
	if err != nil {
		t.Fatal(err)
	}
	d := newConfigDrift(cfg, nil)
	newer := maps.Clone(d.print.Keys)
	newer["failover.new_knob"] = "0123abcd"
	changed := maps.Clone(d.print.Keys)
	changed["members"] = "ffffffff"
	now := time.Unix(1000, 0)
	snap := topology.Snapshot{Now: now, Self: "a", MaxAge: 5 * time.Second, Views: map[string]topology.ViewWithAge{
		"b": {Alive: true, View: topology.MemberView{SidecarID: "b", Cfg: topology.ConfigPrint{Sum: "1111111111111111", Keys: newer}}},
		"c": {Alive: true, View: topology.MemberView{SidecarID: "c", Cfg: topology.ConfigPrint{Sum: "2222222222222222"}}},
		"d": {Alive: true, View: topology.MemberView{SidecarID: "d"}},
	}}
	for _, m := range threeData {
		snap.Members = append(snap.Members, topology.SidecarConfig{ID: m.id})
	}
	got := d.compare(snap)
	if len(got) != 1 || got["c"].keys != nil || got["c"].sum != "2222222222222222" || !d.wantKeys {
		t.Errorf("drift %+v, wantKeys %v", got, d.wantKeys)
	}
	if len(d.viewPrint().Keys) == 0 {
		t.Error("digests not gossiped while a peer's fingerprint differs")
	}
	snap.Views["c"] = topology.ViewWithAge{Alive: true, Age: time.Minute, View: topology.MemberView{SidecarID: "c"}}
	snap.Views["d"] = topology.ViewWithAge{Alive: true, View: topology.MemberView{SidecarID: "d", Cfg: topology.ConfigPrint{Sum: "3", Keys: changed}}}
	if got := d.compare(snap); len(got) != 1 || !slices.Equal(got["d"].keys, []string{"members"}) {
		t.Errorf("drift %+v", got)
	}
}
