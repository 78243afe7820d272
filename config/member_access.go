package config

import "time"

// Credentials is how an arbiter sidecar reaches the members' mongods when it has to act on one
// (the `credentials` section): the same keys as the data sidecar's mongod section, without a
// uri, since the members are dialled at the hosts the replica set names. Without it an arbiter
// sidecar only probes (hello needs no login) and is never chosen to execute an action: on an auth
// or TLS set every command it sent would fail (election/executor.go). An empty section says the
// set needs neither login nor TLS and the arbiter sidecar may act on it.
type Credentials struct {
	// Username is the user the arbiter sidecar logs in as; when set, exactly one password source is
	// required, unless auth_mechanism is MONGODB-X509.
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	// PasswordFile is a file holding only the password, read at load.
	PasswordFile string `yaml:"password_file,omitempty" json:"password_file,omitempty"`
	// PasswordEnv names an environment variable holding the password; not with password_file.
	PasswordEnv string `yaml:"password_env,omitempty" json:"password_env,omitempty"`
	// AuthSource is the database the user is defined in.
	AuthSource string `yaml:"auth_source" json:"auth_source"`
	// AuthMechanism is empty (negotiated SCRAM), SCRAM-SHA-1, SCRAM-SHA-256 or MONGODB-X509.
	AuthMechanism AuthMechanism `yaml:"auth_mechanism,omitempty" json:"auth_mechanism,omitempty"`
	// ConnectTimeout bounds connecting to a member, 100ms..1m.
	ConnectTimeout time.Duration `yaml:"connect_timeout" json:"connect_timeout"`
	// TLS, when present, means TLS to the members.
	TLS *ClientTLS `yaml:"tls,omitempty" json:"tls,omitempty"`

	// Password is read from PasswordFile or PasswordEnv at load; it prints as "[redacted]".
	Password Secret `yaml:"-" json:"password"`
}

func (r *Credentials) setDefaults() {
	r.AuthSource = DefaultAuthSource
	r.ConnectTimeout = DefaultConnectTimeout
}

func (r *Credentials) resolvePaths(abs func(*string)) {
	abs(&r.PasswordFile)
	if r.TLS != nil {
		abs(&r.TLS.CAFile)
		abs(&r.TLS.CertificateKeyFile)
	}
}

// MemberAccess is how this sidecar logs in to the members' mongods: a data sidecar's mongod
// section (its credentials and TLS serve for every member), an arbiter sidecar's credentials
// section, or nil when it has neither (an arbiter sidecar that may only probe).
func (c *Config) MemberAccess() *Credentials {
	if m := c.Mongod; m != nil {
		return &Credentials{Username: m.Username, PasswordFile: m.PasswordFile, PasswordEnv: m.PasswordEnv,
			AuthSource: m.AuthSource, AuthMechanism: m.AuthMechanism, ConnectTimeout: m.ConnectTimeout,
			TLS: m.TLS, Password: m.Password}
	}
	return c.Credentials
}
