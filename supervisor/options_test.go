package supervisor

import (
	"testing"

	"github.com/rsguard/rsguard/config"
)

func TestURIParams(t *testing.T) {
	m := &config.Credentials{TLS: &config.ClientTLS{CAFile: "/etc/ca.pem", CertificateKeyFile: "/etc/c.pem"}}
	cases := []struct{ uri, want string }{
		{"mongodb://h:1", "mongodb://h:1/?tls=true&tlsCAFile=%2Fetc%2Fca.pem&tlsCertificateKeyFile=%2Fetc%2Fc.pem"},
		{"mongodb://h:1/", "mongodb://h:1/?tls=true&tlsCAFile=%2Fetc%2Fca.pem&tlsCertificateKeyFile=%2Fetc%2Fc.pem"},
		{"mongodb://h:1/?directConnection=true", "mongodb://h:1/?directConnection=true&tls=true&tlsCAFile=%2Fetc%2Fca.pem&tlsCertificateKeyFile=%2Fetc%2Fc.pem"},
	}
	for _, c := range cases {
		if got := withParams(c.uri, uriParams(m)); got != c.want {
			t.Errorf("withParams(%q) = %q, want %q", c.uri, got, c.want)
		}
	}
	if got := withParams("mongodb://h:1", uriParams(&config.Credentials{})); got != "mongodb://h:1" {
		t.Errorf("no TLS: %q", got)
	}
	x509 := uriParams(&config.Credentials{AuthMechanism: config.AuthX509})
	if x509.Get("authMechanism") != "MONGODB-X509" {
		t.Errorf("x509: %v", x509)
	}
}

func TestGossipOptions(t *testing.T) {
	cfg := parseConfig(t, "")
	o, err := gossipOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o.NodeID != "a" || o.BindAddr != "127.0.0.2" || o.BindPort != 7946 || o.Label != "rs0" ||
		len(o.Seeds) != 3 || o.AdvertiseAddr != "" {
		t.Errorf("gossip options: %+v", o)
	}
	if _, err := New(Options{Config: &config.Config{}}); err == nil {
		t.Error("New accepted an empty config")
	}
}

// The credentials and TLS reach the driver for the local mongod and for every other member, on a
// data sidecar (mongod section) and an arbiter sidecar (credentials section) alike.
func TestDialOptions(t *testing.T) {
	tlsOn := &config.ClientTLS{CAFile: "/ca.pem"}
	members := []config.Member{{ID: "a", Mode: config.ModeData, Mongod: "h1:27017"},
		{ID: "b", Mode: config.ModeData, Mongod: "h2:27017"}, {ID: "arb", Mode: config.ModeArbiter}}
	data := &config.Config{ID: "a", Mode: config.ModeData, Members: members,
		Mongod: &config.Mongod{URI: "mongodb://127.0.0.1:27017/?directConnection=true", Username: "rs",
			Password: config.NewSecret("pw"), AuthSource: "admin", AuthMechanism: config.AuthSCRAMSHA256, TLS: tlsOn}}
	arb := &config.Config{ID: "arb", Mode: config.ModeArbiter, Members: members,
		Credentials: &config.Credentials{Username: "rs", Password: config.NewSecret("pw"), AuthSource: "admin", TLS: tlsOn}}
	bare := &config.Config{ID: "arb", Mode: config.ModeArbiter, Members: members}
	const tlsQ = "tls=true&tlsCAFile=%2Fca.pem"
	cases := []struct {
		name      string
		cfg       *config.Config
		host, uri string
		user      string
		mech      string
	}{
		{"data local", data, "h1:27017", "mongodb://127.0.0.1:27017/?directConnection=true&" + tlsQ, "rs", "SCRAM-SHA-256"},
		{"data remote", data, "h2:27017", "mongodb://h2:27017/?directConnection=true&" + tlsQ, "rs", "SCRAM-SHA-256"},
		{"arbiter with credentials", arb, "h2:27017", "mongodb://h2:27017/?directConnection=true&" + tlsQ, "rs", ""},
		{"arbiter without", bare, "h2:27017", "mongodb://h2:27017/?directConnection=true", "", ""},
	}
	for _, c := range cases {
		o := dialOptions(c.cfg, c.host)
		wantPW := ""
		if c.user != "" {
			wantPW = "pw"
		}
		if o.URI != c.uri || o.Username != c.user || o.Password != wantPW || o.AuthMechanism != c.mech {
			t.Errorf("%s: uri %q user %q password set %v mechanism %q, want %q %q %v %q", c.name,
				o.URI, o.Username, o.Password != "", o.AuthMechanism, c.uri, c.user, wantPW != "", c.mech)
		}
	}
}
