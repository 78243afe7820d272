package config

import (
	"strings"
	"testing"
)

// arbiterYAML is a valid arbiter sidecar with a credentials section; line numbers matter.
const arbiterYAML = `id: arb-1
mode: arbiter
replica_set: rs0
credentials:
  username: rsguard
  password_file: /etc/rsguard/mongo.pass
  tls: {ca_file: /tls/ca.pem}
gossip:
  bind: 127.0.0.4:7946
  keyring_file: gossip.keyring
members:
  - {id: node-a, mode: data, gossip: 127.0.0.2:7946, mongod: 127.0.0.2:27017}
  - {id: node-b, mode: data, gossip: 127.0.0.3:7946, mongod: 127.0.0.3:27017}
  - {id: arb-1, mode: arbiter, gossip: 127.0.0.4:7946}
`

func TestArbiterCredentials(t *testing.T) {
	cert, key := selfSigned(t)
	const pwLine = "  password_file: /etc/rsguard/mongo.pass\n"
	tests := []struct {
		name   string
		base   string
		edits  []edit
		files  map[string]string
		env    map[string]string
		where  where
		key    string
		msg    string
		verify func(t *testing.T, c *Config)
	}{
		{name: "loads", verify: func(t *testing.T, c *Config) {
			r := c.MemberAccess()
			if r == nil || r.Username != "rsguard" || r.Password.Reveal() != testPassword || r.AuthSource != "admin" ||
				r.ConnectTimeout != DefaultConnectTimeout || r.TLS == nil || r.TLS.CAFile != "/tls/ca.pem" {
				t.Errorf("member access %+v", r)
			}
		}},
		{name: "absent: no member access", edits: []edit{{"credentials:\n  username: rsguard\n" + pwLine + "  tls: {ca_file: /tls/ca.pem}\n", ""}},
			verify: func(t *testing.T, c *Config) {
				if c.MemberAccess() != nil {
					t.Error("an arbiter sidecar without credentials has member access")
				}
			}},
		{name: "empty section: a set without auth", edits: []edit{{"credentials:\n  username: rsguard\n" + pwLine + "  tls: {ca_file: /tls/ca.pem}\n", "credentials: {}\n"}},
			verify: func(t *testing.T, c *Config) {
				if r := c.MemberAccess(); r == nil || r.Username != "" || r.AuthSource != "admin" {
					t.Errorf("member access %+v", r)
				}
			}},
		{name: "password env", edits: []edit{{pwLine, "  password_env: ARB_PW\n"}}, env: map[string]string{"ARB_PW": "hunter2"},
			verify: func(t *testing.T, c *Config) {
				if c.Credentials.Password.Reveal() != "hunter2" {
					t.Error("password not read from the environment")
				}
			}},
		{name: "relative password file", edits: []edit{{pwLine, "  password_file: pw\n"}}, files: map[string]string{"/etc/rsguard/pw": "x\n"},
			verify: func(t *testing.T, c *Config) {
				if c.Credentials.PasswordFile != "/etc/rsguard/pw" || c.Credentials.Password.Reveal() != "x" {
					t.Errorf("password file %q", c.Credentials.PasswordFile)
				}
			}},
		{name: "password file missing", files: map[string]string{"/etc/rsguard/mongo.pass": ""},
			where: where{6, "password_file"}, key: "credentials.password_file", msg: `cannot read password file "/etc/rsguard/mongo.pass"`},
		{name: "username without password", edits: []edit{{pwLine, ""}},
			where: where{5, "username"}, key: "credentials.username", msg: "missing credentials: username \"rsguard\" is set but neither"},
		{name: "password without username", edits: []edit{{"  username: rsguard\n", ""}},
			where: where{4, ""}, key: "credentials.username", msg: "is required when a password is configured"},
		{name: "file and env", edits: []edit{{pwLine, pwLine + "  password_env: ARB_PW\n"}}, env: map[string]string{"ARB_PW": "x"},
			where: where{7, "password_env"}, key: "credentials.password_env", msg: "set either password_file or password_env, not both"},
		{name: "bad env name", edits: []edit{{pwLine, "  password_env: 1PW\n"}},
			where: where{6, "password_env"}, key: "credentials.password_env", msg: "must be an environment variable name"},
		{name: "bad mechanism", edits: []edit{{"  username: rsguard\n", "  username: rsguard\n  auth_mechanism: PLAIN\n"}},
			where: where{6, "auth_mechanism"}, key: "credentials.auth_mechanism", msg: "PLAIN"},
		{name: "x509 without certificate", edits: []edit{{"  username: rsguard\n" + pwLine, "  auth_mechanism: MONGODB-X509\n"}},
			where: where{5, "auth_mechanism"}, key: "credentials.auth_mechanism", msg: "MONGODB-X509 needs credentials.tls.certificate_key_file"},
		{name: "x509 with password", edits: []edit{{"  username: rsguard\n", "  auth_mechanism: MONGODB-X509\n"}},
			where: where{5, "auth_mechanism"}, key: "credentials.auth_mechanism", msg: "remove password_file/password_env"},
		{name: "ca not pem", files: map[string]string{"/tls/ca.pem": "junk"},
			where: where{7, "ca_file"}, key: "credentials.tls.ca_file", msg: "holds no PEM certificate"},
		{name: "unknown key", edits: []edit{{"  username: rsguard\n", "  username: rsguard\n  uri: mongodb://x\n"}},
			where: where{6, "uri"}, key: "credentials.uri", msg: "unknown"},
		{name: "connect timeout out of range", edits: []edit{{"  username: rsguard\n", "  username: rsguard\n  connect_timeout: 1ms\n"}},
			where: where{6, "connect_timeout"}, key: "credentials.connect_timeout", msg: "1ms"},
		{name: "data sidecar refuses the section", base: baseYAML,
			edits: []edit{{"gossip:\n", "credentials:\n  username: rsguard\ngossip:\n"}},
			where: where{10, "credentials"}, key: "credentials", msg: "must be absent in mode data"},
		{name: "data sidecar member access is its mongod section", base: baseYAML, verify: func(t *testing.T, c *Config) {
			r := c.MemberAccess()
			if r == nil || r.Username != "rsguard" || r.Password.Reveal() != testPassword {
				t.Errorf("member access %+v", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := newFakeSys()
			sys.files["/tls/ca.pem"] = cert
			sys.files["/tls/client.pem"] = cert + key
			for k, v := range tt.files {
				if v == "" {
					delete(sys.files, k)
				} else {
					sys.files[k] = v
				}
			}
			for k, v := range tt.env {
				sys.env[k] = v
			}
			base := tt.base
			if base == "" {
				base = arbiterYAML
			}
			text := applyEdits(t, base, tt.edits...)
			c, err := parseText(text, sys)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("%v\n%s", err, text)
				}
				if tt.verify != nil {
					tt.verify(t, c)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error\n%s", text)
			}
			findErr(t, err, tt.where.prefix(t, text, tt.key), tt.msg)
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}
