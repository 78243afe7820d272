package config

import (
	"strings"
	"testing"
)

func parseAs(t testing.TB, name, text string) *Config {
	t.Helper()
	c, err := parse(name, "/etc/rsguard", []byte(text), newFakeSys())
	if err != nil {
		t.Fatalf("parse %s: %v\n--- input:\n%s", name, err, text)
	}
	return c
}

// nodeB is baseYAML as node-b's file.
func nodeB(t testing.TB, edits ...edit) string {
	return applyEdits(t, applyEdits(t, baseYAML,
		edit{"id: node-a\nmode", "id: node-b\nmode"},
		edit{"uri: mongodb://127.0.0.2:27017", "uri: mongodb://127.0.0.3:27017"},
		edit{"bind: 127.0.0.2:7946\n", "bind: 127.0.0.3:7946\n"},
		edit{"listen: 127.0.0.2:9216", "listen: 127.0.0.3:9216"},
	), edits...)
}

// Must not fire: the files of one set, per-sidecar keys all different, check out.
func TestCrossCheckAgreeingFiles(t *testing.T) {
	cfgs := []*Config{parseAs(t, "a.yaml", baseYAML), parseAs(t, "b.yaml", nodeB(t)), parseAs(t, "arb.yaml", peerYAML(t))}
	if err := CrossCheck(cfgs); err != nil {
		t.Errorf("agreeing files:\n%v", err)
	}
	// A loopback URI with the member's port reaches the same mongod when the set names real hosts.
	local := parseAs(t, "a.yaml", applyEdits(t, baseYAML, edit{"mongodb://127.0.0.2:27017", "mongodb://localhost:27017"},
		edit{"mongod: 127.0.0.2:27017", "mongod: 10.0.0.2:27017"}))
	if err := CrossCheck([]*Config{local}); err != nil {
		t.Errorf("loopback uri: %v", err)
	}
}

func TestCrossCheckNamesFileKeyAndValues(t *testing.T) {
	a := parseAs(t, "a.yaml", baseYAML)
	for _, tc := range []struct {
		name string
		b    string
		want []string // substrings of the error lines, each expected
	}{
		{"drifted policy", nodeB(t, edit{"anti_flap_window: 5m", "anti_flap_window: 10m"}),
			[]string{`b.yaml:22:3: failover.anti_flap_window: is 10m here but 5m in a.yaml; every sidecar of the set must agree`}},
		{"same id", baseYAML, []string{`b.yaml:1:1: id: "node-a" is also the id in a.yaml`}},
		{"member gossip differs", nodeB(t, edit{"gossip: 127.0.0.4:7946, zone: zone-c", "gossip: 127.0.0.9:7946, zone: zone-c"}),
			[]string{`b.yaml:17:`, `members[2].gossip: is "127.0.0.9:7946" here but "127.0.0.4:7946" for arb-1 in a.yaml`}},
		{"member missing", nodeB(t, edit{"  - {id: arb-1, mode: arbiter, gossip: 127.0.0.4:7946, zone: zone-c}\n", ""}),
			[]string{`b.yaml:14:1: members: has no entry for "arb-1", which a.yaml lists`}},
		{"set name", nodeB(t, edit{"replica_set: rs0", "replica_set: rs9"}),
			[]string{`b.yaml:3:1: replica_set: is "rs9" here but "rs0" in a.yaml`}},
		{"uri elsewhere", nodeB(t, edit{"mongodb://127.0.0.3:27017", "mongodb://127.0.0.7:27017"}),
			[]string{`b.yaml:6:3: mongod.uri: names "127.0.0.7:27017" but this sidecar's members entry says its mongod is "127.0.0.3:27017"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CrossCheck([]*Config{a, parseAs(t, "b.yaml", tc.b)})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("no %q in:\n%v", w, err)
				}
			}
		})
	}
}
