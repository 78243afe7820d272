package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReloadAllowsPolicyChanges(t *testing.T) {
	old := mustParse(t, baseYAML, newFakeSys())
	text := applyEdits(t, baseYAML,
		edit{"interval: 1s", "interval: 2s"},
		edit{"anti_flap_window: 5m", "anti_flap_window: 10m"},
		edit{"prefer_zones: [zone-a]", "prefer_zones: [zone-b]"},
		edit{"level: info", "level: debug"},
	)
	next := mustParse(t, text, newFakeSys())
	got, changed, err := old.ApplyPolicy(next)
	if err != nil {
		t.Fatal(err)
	}
	// view_max_age is not in the file: its derived default follows the interval.
	want := []string{"probe.interval", "probe.view_max_age", "failover.anti_flap_window", "failover.candidates.prefer_zones", "log.level"}
	if !slices.Equal(changed, want) {
		t.Errorf("changed = %v, want %v", changed, want)
	}
	if got.Probe.Interval != 2*time.Second || got.Failover.AntiFlapWindow != 10*time.Minute ||
		got.Log.Level != LogDebug || got.Failover.Candidates.PreferZones[0] != "zone-b" {
		t.Errorf("merged config %+v", got)
	}
	if old.Probe.Interval != time.Second || old.Log.Level != LogInfo {
		t.Error("old config was modified")
	}
	if got.Mongod.Password.Reveal() != testPassword {
		t.Error("secrets must carry over")
	}
	_, changed, err = old.ApplyPolicy(mustParse(t, baseYAML, newFakeSys()))
	if err != nil || len(changed) != 0 {
		t.Errorf("no-op reload: %v %v", changed, err)
	}
}

func TestReloadRefusesNonPolicyChanges(t *testing.T) {
	old := mustParse(t, baseYAML, newFakeSys())
	tests := []struct {
		name  string
		edits []edit
		where where
		key   string
	}{
		{"id", []edit{{"id: node-a\n", "id: node-b\n"}, {"bind: 127.0.0.2:7946", "bind: 127.0.0.3:7946"}}, where{1, ""}, "id"},
		{"replica set", []edit{{"replica_set: rs0", "replica_set: rs1"}}, where{3, ""}, "replica_set"},
		{"mongod uri", []edit{{"27017/?directConnection=true", "27018/?directConnection=true"}}, where{6, "uri"}, "mongod.uri"},
		{"gossip seeds", []edit{{"  keyring_file: gossip.keyring\n", "  keyring_file: gossip.keyring\n  seeds: [127.0.0.3:7946]\n"}}, where{13, "seeds"}, "gossip.seeds"},
		{"member zone", []edit{{"zone: zone-c", "zone: zone-d"}}, where{17, "zone:"}, "members[2].zone"},
		{"members added", []edit{{"zone: zone-c}\n", "zone: zone-c}\n  - {id: arb-2, mode: arbiter, gossip: 127.0.0.9:7946}\n"}}, where{14, ""}, "members"},
		{"http listen", []edit{{"listen: 127.0.0.2:9216", "listen: 127.0.0.2:9217"}}, where{27, "listen"}, "http.listen"},
		{"log format", []edit{{"  level: info\n", "  level: info\n  format: text\n"}}, where{30, "format"}, "log.format"},
		{"state dir", []edit{{"state_dir: /var/lib/rsguard", "state_dir: /srv/rsguard"}}, where{4, ""}, "state_dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := applyEdits(t, baseYAML, append(tt.edits, edit{"interval: 1s", "interval: 2s"})...)
			next := mustParse(t, text, newFakeSys())
			got, changed, err := old.ApplyPolicy(next)
			if err == nil {
				t.Fatalf("reload accepted; changed %v", changed)
			}
			if got != old || changed != nil {
				t.Error("a refused reload must return the old config and no keys")
			}
			findErr(t, err, tt.where.prefix(t, text, tt.key), "cannot change on reload; restart the sidecar")
			if strings.Contains(err.Error(), "probe.interval") {
				t.Errorf("policy key reported as refused: %v", err)
			}
		})
	}
}

func TestReloadPolicyFromFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.yaml")
	pw := filepath.Join(dir, "pw")
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(pw, "pw\n")
	write(filepath.Join(dir, "gossip.keyring"), testGossipKey+"\n")
	base := applyEdits(t, baseYAML, edit{"/etc/rsguard/mongo.pass", "pw"})
	write(path, base)
	old, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}

	write(path, applyEdits(t, base, edit{"anti_flap_window: 5m", "anti_flap_window: 100ms"}))
	got, _, err := ReloadPolicy(old, path)
	if err == nil || got != old || !strings.Contains(err.Error(), path+":22:3: failover.anti_flap_window: must be at least 1s") {
		t.Errorf("invalid reload: %v", err)
	}

	write(path, applyEdits(t, base, edit{"id: node-a\n", "id: node-b\n"}, edit{"bind: 127.0.0.2:7946", "bind: 127.0.0.3:7946"}))
	if got, _, err = ReloadPolicy(old, path); err == nil || got != old {
		t.Errorf("id change accepted")
	} else if !strings.Contains(err.Error(), "node.yaml:1:1: id: ") {
		t.Errorf("id change: %v", err)
	}

	write(path, applyEdits(t, base, edit{"  anti_flap_window: 5m\n", "  anti_flap_window: 5m\n  dry_run: true\n"}))
	got, changed, err := ReloadPolicy(old, path)
	if err != nil || !got.Failover.DryRun || !slices.Equal(changed, []string{"failover.dry_run"}) {
		t.Errorf("dry_run reload: %v %v", changed, err)
	}
}

func TestReloadable(t *testing.T) {
	for key, want := range map[string]bool{
		"probe.interval": true, "failover.candidates.max_lag": true, "log.level": true, "failover": true,
		"log.format": false, "id": false, "members[0].zone": false, "gossip.seeds": false, "probes": false,
	} {
		if Reloadable(key) != want {
			t.Errorf("Reloadable(%q) = %v", key, !want)
		}
	}
}
