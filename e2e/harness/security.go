package harness

import (
	"crypto/tls"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rsguard/rsguard/lab"
)

// Security runs the set as production sets run: key file, TLS, a root user (lab.Security).
type Security = lab.Security

// WriteKeyFile writes a fresh random key file readable by its owner only, as mongod requires.
func WriteKeyFile(path string) error { return lab.WriteKeyFile(path) }

// withSecurity adds TLS (trusting the test CA) and, once it exists, the credential.
func withSecurity(o *options.ClientOptions, cfg *tls.Config, cred func() (lab.Credential, bool)) *options.ClientOptions {
	if cfg != nil {
		o.SetTLSConfig(cfg)
	}
	if c, ok := cred(); ok {
		o.SetAuth(options.Credential{Username: c.Username, Password: c.Password, AuthSource: c.AuthSource})
	}
	return o
}

// RootCredential is the root user's credential (zero when the cluster has no Security).
func (c *Cluster) RootCredential() options.Credential {
	r := c.Cluster.RootCredential()
	return options.Credential{Username: r.Username, Password: r.Password, AuthSource: r.AuthSource}
}

// UserClientOptions is a replica-set client logging in as user/pwd (authSource admin) over the
// cluster's TLS settings, without the root credential.
func (c *Cluster) UserClientOptions(user, pwd string) *options.ClientOptions {
	o := options.Client().ApplyURI(c.URI()).SetServerSelectionTimeout(5 * time.Second).SetAppName("rsguard-e2e")
	if cfg := c.TLSConfig(); cfg != nil {
		o.SetTLSConfig(cfg)
	}
	return o.SetAuth(options.Credential{Username: user, Password: pwd, AuthSource: "admin"})
}
