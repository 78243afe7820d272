package config

import (
	"strings"
	"testing"
)

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		name  string
		edits []edit
		where where
		key   string
		msg   string
	}{
		{"typo at top level", []edit{{"replica_set: rs0", "replicaset: rs0"}}, where{3, ""}, "replicaset", `unknown key "replicaset" (did you mean "replica_set"?)`},
		{"typo in section", []edit{{"max_lag: 10s", "maxlag: 10s"}}, where{24, "maxlag"}, "failover.candidates.maxlag", `unknown key "maxlag" (did you mean "max_lag"?)`},
		{"truncated name", []edit{{"anti_flap_window: 5m", "anti_flap: 5m"}}, where{22, "anti_flap"}, "failover.anti_flap", `(did you mean "anti_flap_window"?)`},
		{"key in the wrong section", []edit{{"state_dir: /var/lib/rsguard\n", "state_dir: /var/lib/rsguard\nsick_after: 5s\n"}}, where{5, ""}, "sick_after", `unknown key "sick_after" (did you mean "probe.sick_after"?)`},
		{"no close match", []edit{{"state_dir: /var/lib/rsguard\n", "state_dir: /var/lib/rsguard\nfrobnicate: 1\n"}}, where{5, ""}, "frobnicate", `unknown key "frobnicate"`},
		{"top-level zone", []edit{{"state_dir: /var/lib/rsguard\n", "state_dir: /var/lib/rsguard\nzone: zone-a\n"}}, where{5, ""}, "zone", "the zone of its entry in members"},
		{"unknown key in member", []edit{{"zone: zone-c}", "zon: zone-c}"}}, where{17, "zon:"}, "members[2].zon", `(did you mean "zone"?)`},
		{"literal admin token", []edit{{"  listen: 127.0.0.2:9216\n", "  listen: 127.0.0.2:9216\n  admin_token: abc\n"}}, where{28, "admin_token"}, "http.admin_token", "use http.admin_token_file or http.admin_token_env"},
		{"removed key", []edit{{"  anti_flap_window: 5m\n", "  anti_flap_window: 5m\n  allow_force_reconfig: false\n"}}, where{23, "allow_force_reconfig"}, "failover.allow_force_reconfig", "was removed: rsguard never force-reconfigures"},
		{"literal gossip key", []edit{{"  settle: 3s\n", "  settle: 3s\n  keyring: [abc]\n"}}, where{14, "keyring"}, "gossip.keyring", "gossip.keyring_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := applyEdits(t, baseYAML, tt.edits...)
			_, err := parseText(text, newFakeSys())
			e := findErr(t, err, tt.where.prefix(t, text, tt.key), tt.msg)
			if tt.name == "no close match" && strings.Contains(e.Msg, "did you mean") {
				t.Errorf("unexpected suggestion: %v", e)
			}
		})
	}
}

func TestStructureErrors(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		where where
		key   string
		msg   string
	}{
		{"empty file", "", where{}, "", "file is empty"},
		{"comments only", "# nothing\n", where{}, "", "holds no YAML document"},
		{"top level list", "- a\n- b\n", where{}, "", "top level must be a mapping"},
		{"top level scalar", "hello\n", where{}, "", "top level must be a mapping"},
		{"syntax error", baseYAML[:40] + "  : : [\n", where{4, noCol}, "", "mapping values are not allowed"},
		{"tab indentation", "id: a\nmode:\n\t- x\n", where{3, noCol}, "", "YAML does not allow tabs"},
		{"second document", applyEdits(t, baseYAML, edit{"log:\n", "---\nlog:\n"}), where{28, noCol}, "", "only one YAML document"},
		{"duplicate key", applyEdits(t, baseYAML, edit{"replica_set: rs0\n", "replica_set: rs0\nreplica_set: rs1\n"}), where{4, ""}, "replica_set", "duplicate key (first set on line 3)"},
		{"duplicate nested key", applyEdits(t, baseYAML, edit{"  timeout: 800ms\n", "  timeout: 800ms\n  timeout: 700ms\n"}), where{21, "timeout"}, "probe.timeout", "duplicate key (first set on line 20)"},
		{"merge key in section", applyEdits(t, baseYAML, edit{"  level: info\n", "  <<: {level: info}\n"}), where{29, "<<"}, "log", "merge keys (<<) are not supported"},
		{"section is a scalar", applyEdits(t, baseYAML, edit{"log:\n  level: info\n", "log: info\n"}), where{28, ""}, "log", "expected a mapping of keys, got string \"info\""},
		{"list is a scalar", applyEdits(t, baseYAML, edit{"  keyring_file: gossip.keyring\n", "  keyring_file: gossip.keyring\n  seeds: 127.0.0.3:7946\n"}), where{13, "seeds"}, "gossip.seeds", `expected a list, got string "127.0.0.3:7946"`},
		{"string is a list", applyEdits(t, baseYAML, edit{"replica_set: rs0", "replica_set: [rs0]"}), where{3, ""}, "replica_set", "expected a string, got a list"},
		{"duration is a number", applyEdits(t, baseYAML, edit{"interval: 1s", "interval: 1"}), where{19, "interval"}, "probe.interval", `expected a duration such as "500ms", "2s" or "5m", got integer 1`},
		{"duration without unit", applyEdits(t, baseYAML, edit{"interval: 1s", "interval: '1'"}), where{19, "interval"}, "probe.interval", `invalid duration "1"`},
		{"duration with space", applyEdits(t, baseYAML, edit{"interval: 1s", "interval: 1 s"}), where{19, "interval"}, "probe.interval", `invalid duration "1 s"`},
		{"custom tag", applyEdits(t, baseYAML, edit{"replica_set: rs0", "replica_set: !!binary cnMw"}), where{3, ""}, "replica_set", "expected a string, got a value tagged !!binary"},
		{"integer overflow", applyEdits(t, baseYAML, edit{"  timeout: 800ms\n", "  timeout: 800ms\n  failures_before_unreachable: 99999999999999999999\n"}), where{21, "failures"}, "probe.failures_before_unreachable", "expected an integer, got number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseText(tt.text, newFakeSys())
			if err == nil {
				t.Fatal("no error")
			}
			findErr(t, err, tt.where.prefix(t, tt.text, tt.key), tt.msg)
		})
	}
}

func TestNullAndAliases(t *testing.T) {
	// An empty section is the same as an absent one; anchors and aliases are followed.
	text := applyEdits(t, baseYAML,
		edit{"probe:\n  interval: 1s\n  timeout: 800ms\n", "probe:\n"},
		edit{"  bind: 127.0.0.2:7946\n", "  bind: &me 127.0.0.2:7946\n"},
		edit{"id: node-a, mode: data, gossip: 127.0.0.2:7946", "id: node-a, mode: data, gossip: *me"},
	)
	c := mustParse(t, text, newFakeSys())
	if c.Probe != Default().Probe {
		t.Errorf("empty probe section: got %+v, want defaults", c.Probe)
	}
	if c.Members[0].Gossip != "127.0.0.2:7946" {
		t.Errorf("alias not followed: %q", c.Members[0].Gossip)
	}
}

func TestYAMLErrorPosition(t *testing.T) {
	ps, msg := yamlErr(errString("yaml: line 7: mapping values are not allowed in this context"))
	if ps.line != 7 || msg != "mapping values are not allowed in this context" {
		t.Errorf("got %v %q", ps, msg)
	}
	ps, msg = yamlErr(errString("yaml: something else"))
	if ps.line != 0 || msg != "something else" {
		t.Errorf("got %v %q", ps, msg)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "n.yaml", Line: 12, Column: 3, Key: "a.b", Msg: "bad"}, "n.yaml:12:3: a.b: bad"},
		{Error{File: "n.yaml", Line: 12, Key: "a.b", Msg: "bad"}, "n.yaml:12: a.b: bad"},
		{Error{File: "n.yaml", Key: "a", Msg: "bad"}, "n.yaml: a: bad"},
		{Error{File: "n.yaml", Msg: "bad"}, "n.yaml: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	if parentKey("a.b[2].c") != "a.b[2]" || parentKey("a.b[2]") != "a.b" || parentKey("a") != "" {
		t.Error("parentKey")
	}
}

func TestProblemsAreCapped(t *testing.T) {
	var b strings.Builder
	for i := range 300 {
		b.WriteString("unknown_" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ": 1\n")
	}
	_, err := parseText(b.String(), newFakeSys())
	es := err.(Errors)
	if len(es) != maxProblems+1 || !strings.HasSuffix(es[maxProblems].Error(), "more problems not shown") {
		t.Errorf("got %d problems, last %v", len(es), es[len(es)-1])
	}
}
