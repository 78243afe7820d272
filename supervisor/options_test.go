package supervisor

import (
	"testing"

	"github.com/rsguard/rsguard/config"
)

func TestURIParams(t *testing.T) {
	m := &config.Mongod{TLS: &config.ClientTLS{CAFile: "/etc/ca.pem", CertificateKeyFile: "/etc/c.pem"}}
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
	if got := withParams("mongodb://h:1", uriParams(&config.Mongod{})); got != "mongodb://h:1" {
		t.Errorf("no TLS: %q", got)
	}
	x509 := uriParams(&config.Mongod{AuthMechanism: config.AuthX509})
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
