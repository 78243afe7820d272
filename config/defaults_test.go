package config

import (
	"reflect"
	"testing"
	"time"
)

const minimalYAML = `id: node-a
mode: data
replica_set: rs0
mongod:
  uri: mongodb://127.0.0.2:27017
gossip:
  bind: 127.0.0.2:7946
  keyring_file: gossip.keyring
members:
  - {id: node-a, gossip: 127.0.0.2:7946, mongod: 127.0.0.2:27017}
  - {id: node-b, gossip: 127.0.0.3:7946, mongod: 127.0.0.3:27017}
  - {id: arb-1, mode: arbiter, gossip: 127.0.0.4:7946}
`

func TestDefaults(t *testing.T) {
	c := mustParse(t, minimalYAML, newFakeSys())
	d := Default()
	if c.Probe != d.Probe {
		t.Errorf("probe = %+v, want %+v", c.Probe, d.Probe)
	}
	if !reflect.DeepEqual(c.Failover, d.Failover) {
		t.Errorf("failover = %+v, want %+v", c.Failover, d.Failover)
	}
	if c.HTTP.Listen != DefaultHTTPListen || c.HTTP.TLS != nil || c.HTTP.AdminToken.IsSet() {
		t.Errorf("http = %+v", c.HTTP)
	}
	if c.Log != (Log{Level: LogInfo, Format: LogJSON}) {
		t.Errorf("log = %+v", c.Log)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"state_dir", c.StateDir, "/var/lib/rsguard"},
		{"audit_log", c.AuditLog, "/var/lib/rsguard/audit.jsonl"},
		{"mongod.auth_source", c.Mongod.AuthSource, "admin"},
		{"mongod.connect_timeout", c.Mongod.ConnectTimeout, 2 * time.Second},
		{"mongod.password", c.Mongod.Password.IsSet(), false},
		{"gossip.advertise", c.Gossip.Advertise, "127.0.0.2:7946"},
		{"gossip.seeds", c.Gossip.Seeds, []string{"127.0.0.3:7946", "127.0.0.4:7946"}},
		{"gossip.profile", c.Gossip.Profile, ProfileLAN},
		{"gossip.settle", c.Gossip.Settle, 3 * time.Second},
		{"gossip.insecure", c.Gossip.Insecure, false},
		{"members[0].mode", c.Members[0].Mode, ModeData},
		{"failover.enabled", c.Failover.Enabled, true},
		{"failover.dry_run", c.Failover.DryRun, false},
		{"failover.election_quiet", c.Failover.ElectionQuiet, 12 * time.Second},
		{"failover.anti_flap_window", c.Failover.AntiFlapWindow, 5 * time.Minute},
		{"probe.interval", c.Probe.Interval, time.Second},
		{"probe.timeout", c.Probe.Timeout, 800 * time.Millisecond},
		{"probe.write_probe_namespace", c.Probe.WriteProbeNamespace, "rsguard.probe"},
		{"quorum", c.Quorum(), 2},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
}

// TestDefaultsAreValid guards against a default that breaks its own rules (for example a
// probe timeout not below the default interval).
func TestDefaultsAreValid(t *testing.T) {
	p := &problems{file: "x", pos: map[string]pos{}}
	d := Default()
	k := checker{p}
	validateProbe(k, &d.Probe)
	validateFailover(k, &d)
	validateHTTP(k, &d.HTTP)
	validateLog(k, &d.Log)
	if err := p.result(); err != nil {
		t.Fatal(err)
	}
}

func TestRelativePathsResolveAgainstFileDir(t *testing.T) {
	text := applyEdits(t, minimalYAML, edit{"replica_set: rs0\n", "replica_set: rs0\nstate_dir: state\n"})
	c, err := parse("conf/node.yaml", "/etc/rsguard", []byte(text), newFakeSys())
	if err != nil {
		t.Fatal(err)
	}
	if c.StateDir != "/etc/rsguard/state" || c.AuditLog != "/etc/rsguard/state/audit.jsonl" {
		t.Errorf("state_dir %q audit_log %q", c.StateDir, c.AuditLog)
	}
	if c.File() != "conf/node.yaml" {
		t.Errorf("File() = %q", c.File())
	}
}

func TestSeedsMayBeExplicit(t *testing.T) {
	text := applyEdits(t, minimalYAML, edit{"  bind: 127.0.0.2:7946\n", "  bind: 0.0.0.0:7946\n  advertise: 127.0.0.2:7946\n  seeds: [127.0.0.2:7946, 127.0.0.3:7946]\n"})
	c := mustParse(t, text, newFakeSys())
	if !reflect.DeepEqual(c.Gossip.Seeds, []string{"127.0.0.2:7946", "127.0.0.3:7946"}) {
		t.Errorf("seeds %v", c.Gossip.Seeds)
	}
}

func TestSingleMemberAndArbiter(t *testing.T) {
	single := "id: solo\nmode: data\nreplica_set: rs0\nmongod: {uri: 'mongodb://localhost'}\ngossip: {bind: '127.0.0.2:7946', keyring_file: gossip.keyring}\n" +
		"members: [{id: solo, gossip: '127.0.0.2:7946', mongod: '127.0.0.2:27017'}]\n"
	if c := mustParse(t, single, newFakeSys()); c.Quorum() != 1 || len(c.Gossip.Seeds) != 0 {
		t.Errorf("quorum %d seeds %v", c.Quorum(), c.Gossip.Seeds)
	}
	arb := applyEdits(t, minimalYAML,
		edit{"id: node-a\nmode: data\n", "id: arb-1\nmode: arbiter\n"},
		edit{"mongod:\n  uri: mongodb://127.0.0.2:27017\n", ""},
		edit{"bind: 127.0.0.2:7946", "bind: 127.0.0.4:7946"})
	c := mustParse(t, arb, newFakeSys())
	if c.Mongod != nil || c.Self().Mode != ModeArbiter || len(c.Peers()) != 2 {
		t.Errorf("arbiter config %+v", c)
	}
}

func TestDerivedProbeDefaults(t *testing.T) {
	text := applyEdits(t, minimalYAML, edit{"gossip:\n", "probe: {interval: 500ms, write_probe_timeout: 1s, write_probe_interval: 10s}\ngossip:\n"})
	p := mustParse(t, text, newFakeSys()).Probe
	if p.Timeout != 400*time.Millisecond || p.SickWriteLatency != 500*time.Millisecond ||
		p.SickAfter != 10*time.Second || p.ViewMaxAge != 5*time.Second {
		t.Errorf("derived %+v", p)
	}
	text = applyEdits(t, minimalYAML, edit{"gossip:\n", "probe: {interval: 10s}\ngossip:\n"})
	if p := mustParse(t, text, newFakeSys()).Probe; p.Timeout != 800*time.Millisecond || p.ViewMaxAge != 30*time.Second {
		t.Errorf("derived %+v", p)
	}
}
