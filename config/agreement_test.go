package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// leafKeys lists the yaml keys of t: structs (and pointers to them) are descended into,
// everything else (scalars, lists, maps, durations) is a leaf.
func leafKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		key, ft := join(prefix, name), t.Field(i).Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, leafKeys(ft, key)...)
			continue
		}
		out = append(out, key)
	}
	return out
}

// TestEveryKeyIsClassified: a new configuration key cannot be forgotten. Every key is covered
// by a rule (its own or a section's), every probe and failover key by a rule of its own, and
// every rule names a key that exists.
func TestEveryKeyIsClassified(t *testing.T) {
	rules := agreementRules()
	used := map[string]bool{}
	for _, key := range leafKeys(reflect.TypeFor[Config](), "") {
		k := key
		for k != "" {
			if _, ok := rules[k]; ok {
				break
			}
			k = parentKey(k)
		}
		switch {
		case k == "":
			t.Errorf("%s is not classified: add it to agreementRules (config/agreement.go) as agreed or per-sidecar", key)
		case k != key && (strings.HasPrefix(key, "probe.") || strings.HasPrefix(key, "failover.")):
			t.Errorf("%s is classified only through %s: probe and failover keys need a rule each", key, k)
		}
		used[k] = true
	}
	for k, r := range rules {
		if !used[k] {
			t.Errorf("rule for %s names no configuration key", k)
		}
		if r.class != Agreed && r.class != PerSidecar || r.why == "" {
			t.Errorf("rule for %s: class %d, why %q", k, r.class, r.why)
		}
	}
}

// peerYAML is baseYAML as the arbiter sidecar's file: every per-sidecar key differs (id, mode,
// no mongod section, gossip listener and seeds, state_dir, http, log, probe timeout).
func peerYAML(t testing.TB) string {
	return applyEdits(t, baseYAML,
		edit{"id: node-a\nmode: data", "id: arb-1\nmode: arbiter"},
		edit{"state_dir: /var/lib/rsguard", "state_dir: /srv/rsguard-arb"},
		edit{`mongod:
  uri: mongodb://127.0.0.2:27017/?directConnection=true
  username: rsguard
  password_file: /etc/rsguard/mongo.pass
  connect_timeout: 2s
`, ""},
		edit{"bind: 127.0.0.2:7946\n  keyring_file: gossip.keyring\n  settle: 3s",
			"bind: 127.0.0.4:7946\n  keyring_file: gossip.keyring\n  seeds: [127.0.0.2:7946]\n  settle: 1s\n  profile: wan"},
		edit{"timeout: 800ms", "timeout: 500ms"},
		edit{"listen: 127.0.0.2:9216", "listen: 127.0.0.4:9300"},
		edit{"level: info", "level: debug\n  format: text"},
	)
}

// Must not fire: two sidecars of one set whose files differ only in per-sidecar keys agree.
func TestAgreementIgnoresPerSidecarKeys(t *testing.T) {
	a := mustParse(t, baseYAML, newFakeSys()).Agreement()
	b := mustParse(t, peerYAML(t), newFakeSys()).Agreement()
	if a.Sum != b.Sum || len(a.Sum) != 16 {
		t.Errorf("sums %q and %q; drift %v", a.Sum, b.Sum, DriftKeys(a.Keys, b.Keys))
	}
	if !reflect.DeepEqual(a.Keys, b.Keys) {
		t.Errorf("key digests differ: %v", DriftKeys(a.Keys, b.Keys))
	}
	var want []string
	for k := range a.Keys {
		want = append(want, k)
	}
	slices.Sort(want)
	if !slices.Equal(want, AgreedKeys()) {
		t.Errorf("digested keys %v, agreed keys %v", want, AgreedKeys())
	}
	// Order-free lists: members in another order, zones to avoid in another order.
	c := mustParse(t, applyEdits(t, baseYAML,
		edit{"  - {id: node-a, mode: data, gossip: 127.0.0.2:7946, mongod: 127.0.0.2:27017, zone: zone-a}\n", ""},
		edit{"  - {id: arb-1, mode: arbiter, gossip: 127.0.0.4:7946, zone: zone-c}\n",
			"  - {id: arb-1, mode: arbiter, gossip: 127.0.0.4:7946, zone: zone-c}\n  - {id: node-a, mode: data, gossip: 127.0.0.2:7946, mongod: 127.0.0.2:27017, zone: zone-a}\n"},
		edit{"prefer_zones: [zone-a]", "prefer_zones: [zone-a]\n    avoid_zones: [zone-c, zone-b]"},
	), newFakeSys()).Agreement()
	d := mustParse(t, applyEdits(t, baseYAML,
		edit{"prefer_zones: [zone-a]", "prefer_zones: [zone-a]\n    avoid_zones: [zone-b, zone-c]"},
	), newFakeSys()).Agreement()
	if got := DriftKeys(c.Keys, d.Keys); len(got) != 0 || c.Sum != d.Sum {
		t.Errorf("reordered members or zones drift: %v", got)
	}
	// A hand-built config (nil lists) agrees with a loaded one (empty lists).
	e := *mustParse(t, baseYAML, newFakeSys())
	e.Failover.Candidates.AvoidZones, e.Failover.Candidates.RequireTags = nil, nil
	if e.Agreement().Sum != a.Sum {
		t.Error("nil and empty lists digest differently")
	}
}

// Drifted keys are named, each and only each.
func TestAgreementNamesDriftedKeys(t *testing.T) {
	base := mustParse(t, baseYAML, newFakeSys()).Agreement()
	for _, tc := range []struct {
		name  string
		edits []edit
		want  []string
	}{
		{"anti-flap", []edit{{"anti_flap_window: 5m", "anti_flap_window: 10m"}}, []string{"failover.anti_flap_window"}},
		{"zone of a member", []edit{{"zone: zone-b}", "zone: zone-x}"}}, []string{"members"}},
		{"extra member", []edit{{"  - {id: arb-1,", "  - {id: node-c, mode: data, gossip: 127.0.0.9:7946, mongod: 127.0.0.9:27017}\n  - {id: arb-1,"}}, []string{"members"}},
		{"set and dry run", []edit{{"replica_set: rs0", "replica_set: rs1"}, {"failover:\n", "failover:\n  dry_run: true\n"}},
			[]string{"failover.dry_run", "replica_set"}},
		{"probe threshold", []edit{{"timeout: 800ms", "timeout: 800ms\n  view_max_age: 9s"}}, []string{"probe.view_max_age"}},
		{"candidate tags", []edit{{"max_lag: 10s", "max_lag: 10s\n    require_tags: {dc: east}"}}, []string{"failover.candidates.require_tags"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustParse(t, applyEdits(t, baseYAML, tc.edits...), newFakeSys()).Agreement()
			if got.Sum == base.Sum {
				t.Error("same fingerprint")
			}
			if keys := DriftKeys(base.Keys, got.Keys); !slices.Equal(keys, tc.want) {
				t.Errorf("drift %v, want %v", keys, tc.want)
			}
			if keys := DriftKeys(got.Keys, base.Keys); !slices.Equal(keys, tc.want) {
				t.Errorf("drift is not symmetric: %v", keys)
			}
		})
	}
}

// A key only one side digests (a peer on another rsguard version) is not drift.
func TestDriftKeysComparesSharedKeysOnly(t *testing.T) {
	mine := map[string]string{"members": "aa", "failover.enabled": "bb", "failover.new_knob": "cc"}
	theirs := map[string]string{"members": "aa", "failover.enabled": "bx", "failover.old_knob": "dd"}
	if got := DriftKeys(mine, theirs); !slices.Equal(got, []string{"failover.enabled"}) {
		t.Errorf("drift %v", got)
	}
	if got := DriftKeys(mine, nil); got != nil {
		t.Errorf("drift against nothing: %v", got)
	}
}
