package config

import (
	"strings"
	"testing"
)

// TestValidationRules covers every rule: the message must name the file, the line and column of
// the key (or of its nearest ancestor when the key is absent) and the dotted key.
func TestValidationRules(t *testing.T) {
	const (
		m0 = "  - {id: node-a, mode: data, gossip: 127.0.0.2:7946, mongod: 127.0.0.2:27017, zone: zone-a}\n"
		m1 = "  - {id: node-b, mode: data, gossip: 127.0.0.3:7946, mongod: 127.0.0.3:27017, zone: zone-b}\n"
		m2 = "  - {id: arb-1, mode: arbiter, gossip: 127.0.0.4:7946, zone: zone-c}\n"
	)
	afterTimeout := func(line string) edit {
		return edit{"  connect_timeout: 2s\n", "  connect_timeout: 2s\n" + line + "\n"}
	}
	seeds := func(list string) edit { // new line 13, after the keyring
		return edit{"  keyring_file: gossip.keyring\n", "  keyring_file: gossip.keyring\n  seeds: " + list + "\n"}
	}
	afterProbe := func(line string) edit { return edit{"  timeout: 800ms\n", "  timeout: 800ms\n" + line + "\n"} }  // new line 21
	afterMaxLag := func(line string) edit { return edit{"    max_lag: 10s\n", "    max_lag: 10s\n" + line + "\n"} } // new line 25
	afterListen := func(line string) edit {
		return edit{"  listen: 127.0.0.2:9216\n", "  listen: 127.0.0.2:9216\n" + line + "\n"}
	}

	tests := []struct {
		name  string
		edits []edit
		where where
		key   string
		msg   string
	}{
		// identity
		{"id missing", []edit{{"id: node-a\n", ""}}, where{}, "id", "is required"},
		{"id empty", []edit{{"id: node-a\n", "id: ''\n"}}, where{1, ""}, "id", "is required"},
		{"id pattern", []edit{{"id: node-a\n", "id: Node_A\n"}}, where{1, ""}, "id", "lowercase letters"},
		{"id too long", []edit{{"id: node-a\n", "id: " + strings.Repeat("a", 64) + "\n"}}, where{1, ""}, "id", "1 to 63"},
		{"id not in members", []edit{{"id: node-a\n", "id: node-z\n"}}, where{1, ""}, "id", `"node-z" is not in members (ids: arb-1, node-a, node-b)`},
		{"mode missing", []edit{{"mode: data\n", ""}}, where{}, "mode", "is required"},
		{"mode typo", []edit{{"mode: data\n", "mode: dta\n"}}, where{2, ""}, "mode", `must be "data" or "arbiter", got "dta" (did you mean "data"?)`},
		{"mode differs from members entry", []edit{{"mode: data\n", "mode: arbiter\n"}}, where{15, "mode:"}, "members[0].mode", `is "data" but this sidecar's mode is "arbiter"`},
		{"replica_set missing", []edit{{"replica_set: rs0\n", ""}}, where{}, "replica_set", "is required"},
		{"replica_set pattern", []edit{{"replica_set: rs0\n", "replica_set: rs/0\n"}}, where{3, ""}, "replica_set", "letters, digits"},
		{"state_dir empty", []edit{{"state_dir: /var/lib/rsguard\n", "state_dir: ''\n"}}, where{4, ""}, "state_dir", "is required"},

		// mongod
		{"mongod missing in data mode", []edit{{"mongod:\n  uri: mongodb://127.0.0.2:27017/?directConnection=true\n  username: rsguard\n  password_file: /etc/rsguard/mongo.pass\n  connect_timeout: 2s\n", ""}}, where{}, "mongod", "required in mode data"},
		{"mongod in arbiter mode", []edit{{"id: node-a\nmode: data\n", "id: arb-1\nmode: arbiter\n"}}, where{5, ""}, "mongod", "must be absent in mode arbiter"},
		{"uri missing", []edit{{"  uri: mongodb://127.0.0.2:27017/?directConnection=true\n", ""}}, where{5, ""}, "mongod.uri", "is required"},
		{"uri srv", []edit{{"mongodb://127.0.0.2:27017/?directConnection=true", "mongodb+srv://db.example.com/"}}, where{6, "uri"}, "mongod.uri", "mongodb+srv is not supported"},
		{"uri scheme", []edit{{"mongodb://127.0.0.2:27017/?directConnection=true", "http://127.0.0.2:27017/"}}, where{6, "uri"}, "mongod.uri", `must start with "mongodb://"`},
		{"uri credentials", []edit{{"mongodb://127.0.0.2:27017/", "mongodb://u:hunter2@127.0.0.2:27017/"}}, where{6, "uri"}, "mongod.uri", "must not contain credentials"},
		{"uri two hosts", []edit{{"127.0.0.2:27017/?", "127.0.0.2:27017,127.0.0.3:27017/?"}}, where{6, "uri"}, "mongod.uri", "exactly one host"},
		{"uri replicaSet", []edit{{"?directConnection=true", "?replicaSet=rs0"}}, where{6, "uri"}, "mongod.uri", "must not set replicaSet"},
		{"uri directConnection false", []edit{{"?directConnection=true", "?directConnection=false"}}, where{6, "uri"}, "mongod.uri", "directConnection=false"},
		{"uri bad port", []edit{{"127.0.0.2:27017/?", "127.0.0.2:99999/?"}}, where{6, "uri"}, "mongod.uri", ""},
		{"uri tls option with tls section", []edit{{"?directConnection=true", "?tls=true"}, afterTimeout("  tls: {}")}, where{6, "uri"}, "mongod.uri", "sets tls while the mongod.tls section is present"},
		{"literal password", []edit{afterTimeout("  password: hunter2")}, where{10, "password"}, "mongod.password", "mongod.password_file or an environment variable named by mongod.password_env"},
		{"both password sources", []edit{afterTimeout("  password_env: RSGUARD_PW")}, where{10, "password_env"}, "mongod.password_env", "either password_file or password_env, not both"},
		{"missing credentials", []edit{{"  password_file: /etc/rsguard/mongo.pass\n", ""}}, where{7, "username"}, "mongod.username", `missing credentials: username "rsguard" is set but neither mongod.password_file nor mongod.password_env is`},
		{"password without username", []edit{{"  username: rsguard\n", ""}}, where{5, ""}, "mongod.username", "is required when a password is configured"},
		{"password_env bad name", []edit{{"  password_file: /etc/rsguard/mongo.pass\n", "  password_env: 1BAD\n"}}, where{8, "password_env"}, "mongod.password_env", "must be an environment variable name"},
		{"connect_timeout too short", []edit{{"connect_timeout: 2s", "connect_timeout: 50ms"}}, where{9, "connect_timeout"}, "mongod.connect_timeout", `must be at least 100ms, got "50ms"`},
		{"connect_timeout too long", []edit{{"connect_timeout: 2s", "connect_timeout: 2m"}}, where{9, "connect_timeout"}, "mongod.connect_timeout", `must be at most 1m, got "2m"`},
		{"auth_mechanism unknown", []edit{afterTimeout("  auth_mechanism: SCRAM-SHA-512")}, where{10, "auth_mechanism"}, "mongod.auth_mechanism", `must be "SCRAM-SHA-1", "SCRAM-SHA-256" or "MONGODB-X509" (or be omitted), got "SCRAM-SHA-512" (did you mean`},
		{"x509 with password", []edit{afterTimeout("  auth_mechanism: MONGODB-X509")}, where{10, "auth_mechanism"}, "mongod.auth_mechanism", "remove password_file/password_env"},
		{"x509 without certificate", []edit{afterTimeout("  auth_mechanism: MONGODB-X509")}, where{10, "auth_mechanism"}, "mongod.auth_mechanism", "needs mongod.tls.certificate_key_file"},
		{"auth_source empty", []edit{afterTimeout("  auth_source: ''")}, where{10, "auth_source"}, "mongod.auth_source", "is required"},

		// gossip
		{"bind missing", []edit{{"  bind: 127.0.0.2:7946\n", ""}}, where{10, ""}, "gossip.bind", "is required"},
		{"bind port out of range", []edit{{"bind: 127.0.0.2:7946", "bind: 127.0.0.2:70000"}}, where{11, "bind"}, "gossip.bind", `port must be a number from 1 to 65535, got "70000"`},
		{"bind not host:port", []edit{{"bind: 127.0.0.2:7946", "bind: 127.0.0.2"}}, where{11, "bind"}, "gossip.bind", "must be host:port"},
		{"bind bad host", []edit{{"bind: 127.0.0.2:7946", "bind: bad_host:7946"}}, where{11, "bind"}, "gossip.bind", "neither an IP address nor a valid host name"},
		{"bind unspecified without advertise", []edit{{"bind: 127.0.0.2:7946", "bind: 0.0.0.0:7946"}}, where{10, ""}, "gossip.advertise", "is required when gossip.bind listens on every address"},
		{"advertise unspecified", []edit{{"  settle: 3s\n", "  settle: 3s\n  advertise: 0.0.0.0:7946\n"}}, where{14, "advertise"}, "gossip.advertise", "not an address peers can reach"},
		{"advertise differs from members entry", []edit{{"  settle: 3s\n", "  settle: 3s\n  advertise: 127.0.0.9:7946\n"}}, where{16, "gossip:"}, "members[0].gossip", `is "127.0.0.2:7946" but this sidecar advertises "127.0.0.9:7946"`},
		{"seed invalid", []edit{seeds("[127.0.0.3:7946, nohost]")}, where{13, "nohost"}, "gossip.seeds[1]", "must be host:port"},
		{"seed duplicate", []edit{seeds("[127.0.0.3:7946, 127.0.0.3:7946]")}, where{13, "127.0.0.3:7946]"}, "gossip.seeds[1]", "duplicates gossip.seeds[0]"},
		{"seeds empty", []edit{seeds("[]")}, where{13, "seeds"}, "gossip.seeds", "could not join its peers"},
		{"profile typo", []edit{{"  settle: 3s\n", "  settle: 3s\n  profile: lann\n"}}, where{14, "profile"}, "gossip.profile", `(did you mean "lan"?)`},
		{"settle too long", []edit{{"settle: 3s", "settle: 2m"}}, where{13, "settle"}, "gossip.settle", `must be at most 1m, got "2m"`},
		{"settle negative", []edit{{"settle: 3s", "settle: -1s"}}, where{13, "settle"}, "gossip.settle", `must be at least 0s, got "-1s"`},

		// members
		{"members empty", []edit{{"members:\n" + m0 + m1 + m2, "members: []\n"}}, where{14, ""}, "members", "at least one sidecar"},
		{"members missing", []edit{{"members:\n" + m0 + m1 + m2, ""}}, where{}, "members", "at least one sidecar"},
		{"member duplicate id", []edit{{"id: arb-1,", "id: node-b,"}}, where{17, "id:"}, "members[2].id", `"node-b" is already used by members[1]`},
		{"member bad id", []edit{{"id: arb-1,", "id: Arb 1,"}}, where{17, "id:"}, "members[2].id", "lowercase letters"},
		{"member missing id", []edit{{"id: arb-1, ", ""}}, where{17, "{"}, "members[2].id", "is required"},
		{"member duplicate gossip", []edit{{"gossip: 127.0.0.4:7946, zone", "gossip: 127.0.0.3:7946, zone"}}, where{17, "gossip:"}, "members[2].gossip", "already used by members[1]"},
		{"member missing gossip", []edit{{"gossip: 127.0.0.4:7946, ", ""}}, where{17, "{"}, "members[2].gossip", "is required"},
		{"member bad gossip", []edit{{"gossip: 127.0.0.4:7946, zone", "gossip: 127.0.0.4:0, zone"}}, where{17, "gossip:"}, "members[2].gossip", "port must be a number from 1 to 65535"},
		{"member duplicate mongod", []edit{{"mongod: 127.0.0.3:27017", "mongod: 127.0.0.2:27017"}}, where{16, "mongod:"}, "members[1].mongod", "already used by members[0]"},
		{"data member without mongod", []edit{{"mongod: 127.0.0.3:27017, ", ""}}, where{16, "{"}, "members[1].mongod", "is required"},
		{"arbiter member with mongod", []edit{{"mode: arbiter, gossip: 127.0.0.4:7946,", "mode: arbiter, gossip: 127.0.0.4:7946, mongod: 127.0.0.4:27017,"}}, where{17, "mongod:"}, "members[2].mongod", "must be absent for an arbiter"},
		{"member mode typo", []edit{{"mode: arbiter, gossip", "mode: arbitr, gossip"}}, where{17, "mode:"}, "members[2].mode", `(did you mean "arbiter"?)`},
		{"member zone pattern", []edit{{"zone: zone-c", "zone: zone c"}}, where{17, "zone:"}, "members[2].zone", "letters, digits"},
		{"no data member", []edit{{"members:\n" + m0 + m1 + m2, "members:\n  - {id: node-a, mode: arbiter, gossip: 127.0.0.2:7946}\n"}, {"mode: data\n", "mode: arbiter\n"}, {"mongod:\n  uri: mongodb://127.0.0.2:27017/?directConnection=true\n  username: rsguard\n  password_file: /etc/rsguard/mongo.pass\n  connect_timeout: 2s\n", ""}, {"    prefer_zones: [zone-a]\n", ""}}, where{9, ""}, "members", "at least one member in mode data"},

		// probe
		{"interval too short", []edit{{"interval: 1s", "interval: 50ms"}}, where{19, "interval"}, "probe.interval", `must be at least 100ms, got "50ms"`},
		{"interval too long", []edit{{"interval: 1s", "interval: 2m"}}, where{19, "interval"}, "probe.interval", `must be at most 1m, got "2m"`},
		{"timeout not below interval", []edit{{"timeout: 800ms", "timeout: 1s"}}, where{20, "timeout"}, "probe.timeout", `must be less than probe.interval (1s), got "1s"`},
		{"failures zero", []edit{afterProbe("  failures_before_unreachable: 0")}, where{21, "failures"}, "probe.failures_before_unreachable", "must be from 1 to 100, got 0"},
		{"failures float", []edit{afterProbe("  failures_before_unreachable: 1.5")}, where{21, "failures"}, "probe.failures_before_unreachable", "expected an integer, got number 1.5"},
		{"write probe interval", []edit{afterProbe("  write_probe_interval: 10ms")}, where{21, "write_probe_interval"}, "probe.write_probe_interval", `must be at least 100ms, got "10ms"`},
		{"write probe timeout", []edit{afterProbe("  write_probe_timeout: 10m")}, where{21, "write_probe_timeout"}, "probe.write_probe_timeout", `must be at most 5m, got "10m"`},
		{"sick latency not below write timeout", []edit{afterProbe("  sick_write_latency: 5s")}, where{21, "sick_write_latency"}, "probe.sick_write_latency", `must be less than probe.write_probe_timeout (5s), got "5s"`},
		{"sick_after below write interval", []edit{afterProbe("  sick_after: 1s\n  write_probe_interval: 2s")}, where{21, "sick_after"}, "probe.sick_after", `must be at least probe.write_probe_interval (2s), got "1s"`},
		{"sick_after too short", []edit{afterProbe("  sick_after: 500ms")}, where{21, "sick_after"}, "probe.sick_after", `must be at least 1s, got "500ms"`},
		{"view_max_age below two intervals", []edit{afterProbe("  view_max_age: 1500ms")}, where{21, "view_max_age"}, "probe.view_max_age", `must be at least twice probe.interval (2s), got "1.5s"`},
		{"namespace without collection", []edit{afterProbe("  write_probe_namespace: rsguard")}, where{21, "write_probe_namespace"}, "probe.write_probe_namespace", `must be "database.collection"`},
		{"namespace in local", []edit{afterProbe("  write_probe_namespace: local.probe")}, where{21, "write_probe_namespace"}, "probe.write_probe_namespace", `"local" database`},
		{"namespace system collection", []edit{afterProbe("  write_probe_namespace: rsguard.system.x")}, where{21, "write_probe_namespace"}, "probe.write_probe_namespace", "not valid for a write probe"},

		// failover
		{"anti_flap_window too short", []edit{{"anti_flap_window: 5m", "anti_flap_window: 100ms"}}, where{22, "anti_flap_window"}, "failover.anti_flap_window", `must be at least 1s, got "100ms"`},
		{"anti_flap_window too long", []edit{{"anti_flap_window: 5m", "anti_flap_window: 48h"}}, where{22, "anti_flap_window"}, "failover.anti_flap_window", `must be at most 24h, got "48h"`},
		{"fence_after zero", []edit{{"  anti_flap_window: 5m\n", "  anti_flap_window: 5m\n  fence_after: 0s\n"}}, where{23, "fence_after"}, "failover.fence_after", `must be at least 1s, got "0s"`},
		{"election_quiet too short", []edit{{"  anti_flap_window: 5m\n", "  anti_flap_window: 5m\n  election_quiet: 500ms\n"}}, where{23, "election_quiet"}, "failover.election_quiet", `must be at least 1s, got "500ms"`},
		{"enabled not boolean", []edit{{"  anti_flap_window: 5m\n", "  anti_flap_window: 5m\n  enabled: yes\n"}}, where{23, "enabled"}, "failover.enabled", `expected true or false, got string "yes"`},
		{"max_lag negative", []edit{{"max_lag: 10s", "max_lag: -1s"}}, where{24, "max_lag"}, "failover.candidates.max_lag", `must be at least 0s, got "-1s"`},
		{"min_priority range", []edit{afterMaxLag("    min_priority: 2000")}, where{25, "min_priority"}, "failover.candidates.min_priority", "must be from 0 to 1000"},
		{"min_priority nan", []edit{afterMaxLag("    min_priority: .nan")}, where{25, "min_priority"}, "failover.candidates.min_priority", "expected a finite number"},
		{"prefer unknown zone", []edit{{"prefer_zones: [zone-a]", "prefer_zones: [zone-x]"}}, where{25, "zone-x"}, "failover.candidates.prefer_zones[0]", `zone "zone-x" is not the zone of any member (did you mean "zone-a"?)`},
		{"prefer zone twice", []edit{{"prefer_zones: [zone-a]", "prefer_zones: [zone-a, zone-a]"}}, where{25, "zone-a]"}, "failover.candidates.prefer_zones[1]", "listed twice"},
		{"zone preferred and avoided", []edit{afterMaxLag("    avoid_zones: [zone-b, zone-a]")}, where{25, "zone-a"}, "failover.candidates.avoid_zones[1]", "also in prefer_zones"},
		{"require_tags not a mapping", []edit{afterMaxLag("    require_tags: [dc]")}, where{25, "require_tags"}, "failover.candidates.require_tags", "expected a mapping, got a list"},
		{"require_tags value type", []edit{afterMaxLag("    require_tags: {dc: 1}")}, where{25, "dc"}, "failover.candidates.require_tags.dc", "expected a string, got integer 1"},
		{"require_tags bad name", []edit{afterMaxLag("    require_tags: {'d c': east}")}, where{25, "'d c'"}, "failover.candidates.require_tags.d c", "tag name must be"},

		// http
		{"listen empty", []edit{{"listen: 127.0.0.2:9216", "listen: ''"}}, where{27, "listen"}, "http.listen", "is required"},
		{"listen bad", []edit{{"listen: 127.0.0.2:9216", "listen: 127.0.0.2"}}, where{27, "listen"}, "http.listen", "must be host:port"},
		{"tls half", []edit{afterListen("  tls: {cert_file: /etc/rsguard/http.crt}")}, where{28, "tls"}, "http.tls", "needs both cert_file and key_file"},
		{"admin token both", []edit{afterListen("  admin_token_file: /t\n  admin_token_env: TOKEN")}, where{29, "admin_token_env"}, "http.admin_token_env", "not both"},
		{"admin token env name", []edit{afterListen("  admin_token_env: 'A-B'")}, where{28, "admin_token_env"}, "http.admin_token_env", "environment variable name"},

		// log
		{"log level", []edit{{"level: info", "level: verbose"}}, where{29, "level"}, "log.level", `must be "debug", "info", "warn" or "error", got "verbose"`},
		{"log format", []edit{{"  level: info\n", "  level: info\n  format: xml\n"}}, where{30, "format"}, "log.format", `must be "json" or "text", got "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := applyEdits(t, baseYAML, tt.edits...)
			_, err := parseText(text, newFakeSys())
			if err == nil {
				t.Fatalf("no error for:\n%s", text)
			}
			findErr(t, err, tt.where.prefix(t, text, tt.key), tt.msg)
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), testPassword) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestBaseIsValid(t *testing.T) {
	c := mustParse(t, baseYAML, newFakeSys())
	if c.Quorum() != 2 || c.Zone() != "zone-a" || len(c.Peers()) != 2 || len(c.DataMembers()) != 2 {
		t.Errorf("quorum %d zone %q peers %d data %d", c.Quorum(), c.Zone(), len(c.Peers()), len(c.DataMembers()))
	}
	if c.Mongod.Password.Reveal() != testPassword {
		t.Errorf("password not read (trailing newline must be dropped)")
	}
}

func TestQuorum(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 7: 4} {
		c := &Config{Members: make([]Member, n)}
		if got := c.Quorum(); got != want {
			t.Errorf("Quorum of %d members = %d, want %d", n, got, want)
		}
	}
}

// TestAllProblemsReported checks that one pass reports every problem, in file order, and that a
// value that fails to decode is not also reported as missing.
func TestAllProblemsReported(t *testing.T) {
	text := applyEdits(t, baseYAML,
		edit{"replica_set: rs0", "replica_set: 12"},
		edit{"connect_timeout: 2s", "connect_timeout: 5"},
		edit{"  settle: 3s\n", "  setle: 3s\n"},
		edit{"interval: 1s", "interval: 50ms"},
		edit{"anti_flap_window: 5m", "anti_flap_window: 100ms"},
		edit{"level: info", "level: loud"},
	)
	_, err := parseText(text, newFakeSys())
	es, ok := err.(Errors)
	if !ok {
		t.Fatalf("got %T %v", err, err)
	}
	want := []string{
		"node.yaml:3:1: replica_set: expected a string, got integer 12",
		"node.yaml:9:3: mongod.connect_timeout: expected a duration",
		`node.yaml:13:3: gossip.setle: unknown key "setle" (did you mean "settle"?)`,
		`node.yaml:19:3: probe.interval: must be at least 100ms, got "50ms"`,
		`node.yaml:22:3: failover.anti_flap_window: must be at least 1s, got "100ms"`,
		`node.yaml:29:3: log.level: must be`,
	}
	if len(es) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(es), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(es[i].Error(), w) {
			t.Errorf("problem %d = %q, want prefix %q", i, es[i].Error(), w)
		}
	}
	if es[3].File != "node.yaml" || es[3].Line != 19 || es[3].Column != 3 || es[3].Key != "probe.interval" {
		t.Errorf("fields of %#v", es[3])
	}
}
