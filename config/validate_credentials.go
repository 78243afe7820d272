package config

import "time"

// validateCredentials checks the arbiter sidecar's credentials section with the rules of the
// mongod section's login keys.
func validateCredentials(k checker, c *Config) {
	r := c.Credentials
	switch {
	case r == nil:
		return
	case c.Mode == ModeData:
		k.errf("credentials", "must be absent in mode data: a data sidecar reaches every member with the mongod section's credentials and TLS")
		return
	}
	k.durRange("credentials.connect_timeout", r.ConnectTimeout, 100*time.Millisecond, time.Minute)
	k.required("credentials.auth_source", r.AuthSource, "")
	k.enum("credentials.auth_mechanism", string(r.AuthMechanism), string(AuthDefault),
		string(AuthSCRAMSHA1), string(AuthSCRAMSHA256), string(AuthX509))

	hasPass := r.PasswordFile != "" || r.PasswordEnv != ""
	if r.PasswordFile != "" && r.PasswordEnv != "" {
		k.errf("credentials.password_env", "set either password_file or password_env, not both")
	}
	if r.PasswordEnv != "" && !isEnvName(r.PasswordEnv) {
		k.errf("credentials.password_env", "must be an environment variable name such as RSGUARD_MONGO_PASSWORD, got %s", quote(r.PasswordEnv))
	}
	switch {
	case r.AuthMechanism == AuthX509:
		if hasPass {
			k.errf("credentials.auth_mechanism", "MONGODB-X509 authenticates with the client certificate; remove password_file/password_env")
		}
		if r.TLS == nil || r.TLS.CertificateKeyFile == "" {
			k.errf("credentials.auth_mechanism", "MONGODB-X509 needs credentials.tls.certificate_key_file")
		}
	case r.AuthMechanism != AuthDefault && r.Username == "":
		k.errf("credentials.auth_mechanism", "%s needs credentials.username", r.AuthMechanism)
	case r.Username != "" && !hasPass:
		k.errf("credentials.username", "missing credentials: username %s is set but neither credentials.password_file nor credentials.password_env is", quote(r.Username))
	case r.Username == "" && hasPass:
		k.errf("credentials.username", "is required when a password is configured")
	}
}

// readCredentialSecrets reads the credentials section's password and TLS files at load.
func readCredentialSecrets(c *Config, p *problems, sys system) {
	r := c.Credentials
	if r == nil || c.Mode == ModeData {
		return
	}
	if r.PasswordFile == "" || r.PasswordEnv == "" {
		r.Password = readSecret(p, sys, "credentials.password_file", r.PasswordFile, "credentials.password_env", r.PasswordEnv, "password")
	}
	if t := r.TLS; t != nil {
		readCAFile(p, sys, "credentials.tls.ca_file", t.CAFile)
		if t.CertificateKeyFile != "" {
			readKeyPair(p, sys, "credentials.tls.certificate_key_file", t.CertificateKeyFile, t.CertificateKeyFile)
		}
	}
}
