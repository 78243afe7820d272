package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
)

// Limits on the files secrets come from: anything larger is not what the key says it is.
const (
	maxSecretFile = 4 << 10
	maxPEMFile    = 1 << 20
)

// readSecrets reads every credential and key file the config names, so that a missing file,
// an unset variable or a malformed key fails at load (and in validate-config) rather than at
// the first failover. Messages name the key and the path or variable, never the contents.
func readSecrets(c *Config, p *problems, sys system) {
	if m := c.Mongod; m != nil {
		if m.PasswordFile == "" || m.PasswordEnv == "" {
			m.Password = readSecret(p, sys, "mongod.password_file", m.PasswordFile, "mongod.password_env", m.PasswordEnv, "password")
		}
		if t := m.TLS; t != nil {
			readCAFile(p, sys, "mongod.tls.ca_file", t.CAFile)
			if t.CertificateKeyFile != "" {
				readKeyPair(p, sys, "mongod.tls.certificate_key_file", t.CertificateKeyFile, t.CertificateKeyFile)
			}
		}
	}
	readCredentialSecrets(c, p, sys)
	h := &c.HTTP
	if h.AdminTokenFile == "" || h.AdminTokenEnv == "" {
		h.AdminToken = readSecret(p, sys, "http.admin_token_file", h.AdminTokenFile, "http.admin_token_env", h.AdminTokenEnv, "admin token")
	}
	if h.ReadTokenFile == "" || h.ReadTokenEnv == "" {
		h.ReadToken = readSecret(p, sys, "http.read_token_file", h.ReadTokenFile, "http.read_token_env", h.ReadTokenEnv, "read token")
		if h.ReadToken.IsSet() && h.ReadToken.Reveal() == h.AdminToken.Reveal() {
			key := "http.read_token_file"
			if h.ReadTokenFile == "" {
				key = "http.read_token_env"
			}
			p.at(key, "the read token must differ from the admin token: a read-only token that is the admin token grants everything")
		}
	}
	if t := h.TLS; t != nil && t.CertFile != "" && t.KeyFile != "" {
		readKeyPair(p, sys, "http.tls.cert_file", t.CertFile, t.KeyFile)
		readCAFile(p, sys, "http.tls.client_ca_file", t.ClientCAFile)
	}
	if c.Gossip.KeyringFile != "" {
		c.Gossip.Keyring = readKeyring(p, sys, c.Gossip.KeyringFile)
	}
	readNotify(c, p, sys)
}

// readSecret reads a credential from the file or the environment variable, whichever is set.
func readSecret(p *problems, sys system, fileKey, file, envKey, env, what string) Secret {
	switch {
	case file != "":
		data, err := sys.ReadFile(file, maxSecretFile)
		if err != nil {
			p.wrap(fileKey, fmt.Sprintf("cannot read %s file %s: %s", what, quote(file), errText(err)), err)
			return Secret{}
		}
		v := strings.TrimRight(string(data), "\r\n")
		if v == "" {
			p.at(fileKey, fmt.Sprintf("%s file %s is empty", what, quote(file)))
		}
		return NewSecret(v)
	case env != "" && isEnvName(env):
		v, ok := sys.LookupEnv(env)
		switch {
		case !ok:
			p.at(envKey, fmt.Sprintf("environment variable %s is not set (it should hold the %s)", env, what))
		case v == "":
			p.at(envKey, fmt.Sprintf("environment variable %s is set but empty", env))
		}
		return NewSecret(v)
	}
	return Secret{}
}

func readCAFile(p *problems, sys system, key, file string) {
	if file == "" {
		return
	}
	data, err := sys.ReadFile(file, maxPEMFile)
	if err != nil {
		p.wrap(key, fmt.Sprintf("cannot read CA file %s: %s", quote(file), errText(err)), err)
		return
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		p.at(key, fmt.Sprintf("%s holds no PEM certificate", quote(file)))
	}
}

// readKeyPair checks that a certificate and its key load together; both may be one PEM file.
func readKeyPair(p *problems, sys system, key, certFile, keyFile string) {
	certPEM, err := sys.ReadFile(certFile, maxPEMFile)
	if err != nil {
		p.wrap(key, fmt.Sprintf("cannot read certificate file %s: %s", quote(certFile), errText(err)), err)
		return
	}
	keyPEM := certPEM
	if keyFile != certFile {
		if keyPEM, err = sys.ReadFile(keyFile, maxPEMFile); err != nil {
			p.wrap(parentKey(key)+".key_file", fmt.Sprintf("cannot read key file %s: %s", quote(keyFile), errText(err)), err)
			return
		}
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		// crypto/tls messages describe the PEM blocks, not the key material.
		p.wrap(key, fmt.Sprintf("certificate %s and key %s do not load: %v", quote(certFile), quote(keyFile), err), err)
	}
}

// readKeyring reads memberlist keys: one base64 key of 16, 24 or 32 bytes (AES-128/192/256) per
// line, the first being the primary key used to encrypt; blank lines and # comments are skipped.
func readKeyring(p *problems, sys system, file string) []Secret {
	const key = "gossip.keyring_file"
	data, err := sys.ReadFile(file, maxSecretFile)
	if err != nil {
		p.wrap(key, fmt.Sprintf("cannot read keyring file %s: %s", quote(file), errText(err)), err)
		return nil
	}
	var keys []Secret
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(string(line))
		switch {
		case err != nil:
			p.at(key, fmt.Sprintf("%s line %d: not valid base64", quote(file), i+1))
			continue
		case len(raw) != 16 && len(raw) != 24 && len(raw) != 32:
			p.at(key, fmt.Sprintf("%s line %d: key is %d bytes, must be 16, 24 or 32", quote(file), i+1, len(raw)))
			continue
		}
		keys = append(keys, NewSecret(string(raw)))
	}
	if len(keys) == 0 {
		p.at(key, fmt.Sprintf("%s holds no keys", quote(file)))
	}
	return keys
}
