package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned returns a PEM certificate and its PEM key.
func selfSigned(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "rsguard-test"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

func b64(n int) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", n))) }

func TestCredentials(t *testing.T) {
	cert, key := selfSigned(t)
	_, otherKey := selfSigned(t)
	const pwLine = "  password_file: /etc/rsguard/mongo.pass\n"
	httpTLS := edit{"  listen: 127.0.0.2:9216\n", "  listen: 127.0.0.2:9216\n  tls: {cert_file: /tls/http.crt, key_file: /tls/http.key, client_ca_file: /tls/ca.pem}\n"}
	tests := []struct {
		name   string
		edits  []edit
		files  map[string]string // added to the fake file system; "" deletes
		env    map[string]string
		where  where
		key    string
		msg    string // "" means the config must load
		isErr  error
		verify func(t *testing.T, c *Config)
	}{
		{name: "password file missing", files: map[string]string{"/etc/rsguard/mongo.pass": ""},
			where: where{8, "password_file"}, key: "mongod.password_file",
			msg: `cannot read password file "/etc/rsguard/mongo.pass": file does not exist`, isErr: fs.ErrNotExist},
		{name: "password file empty", files: map[string]string{"/etc/rsguard/mongo.pass": "\n"},
			where: where{8, "password_file"}, key: "mongod.password_file", msg: `password file "/etc/rsguard/mongo.pass" is empty`},
		{name: "password file relative to config dir", edits: []edit{{pwLine, "  password_file: pw\n"}},
			files: map[string]string{"/etc/rsguard/pw": "hunter2\r\n"},
			verify: func(t *testing.T, c *Config) {
				if c.Mongod.Password.Reveal() != "hunter2" {
					t.Errorf("password %q", c.Mongod.Password.Reveal())
				}
			}},
		{name: "password env set", edits: []edit{{pwLine, "  password_env: RSGUARD_PW\n"}}, env: map[string]string{"RSGUARD_PW": "hunter2"},
			verify: func(t *testing.T, c *Config) {
				if c.Mongod.Password.Reveal() != "hunter2" {
					t.Errorf("password %q", c.Mongod.Password.Reveal())
				}
			}},
		{name: "password env unset", edits: []edit{{pwLine, "  password_env: RSGUARD_PW\n"}},
			where: where{8, "password_env"}, key: "mongod.password_env", msg: "environment variable RSGUARD_PW is not set (it should hold the password)"},
		{name: "password env empty", edits: []edit{{pwLine, "  password_env: RSGUARD_PW\n"}}, env: map[string]string{"RSGUARD_PW": ""},
			where: where{8, "password_env"}, key: "mongod.password_env", msg: "environment variable RSGUARD_PW is set but empty"},
		{name: "keyring loads", // baseYAML line 12 names gossip.keyring
			files: map[string]string{"/etc/rsguard/gossip.keyring": "# primary first\n" + b64(32) + "\n\n" + b64(16) + "\n"},
			verify: func(t *testing.T, c *Config) {
				ks := c.Gossip.KeyringBytes()
				if len(ks) != 2 || len(ks[0]) != 32 || len(ks[1]) != 16 {
					t.Errorf("keyring %d keys", len(ks))
				}
			}},
		{name: "keyring missing", files: map[string]string{"/etc/rsguard/gossip.keyring": ""}, where: where{12, "keyring_file"}, key: "gossip.keyring_file",
			msg: `cannot read keyring file "/etc/rsguard/gossip.keyring"`, isErr: fs.ErrNotExist},
		{name: "keyring bad base64", files: map[string]string{"/etc/rsguard/gossip.keyring": b64(32) + "\nnot base64!\n"},
			where: where{12, "keyring_file"}, key: "gossip.keyring_file", msg: `"/etc/rsguard/gossip.keyring" line 2: not valid base64`},
		{name: "keyring wrong length", files: map[string]string{"/etc/rsguard/gossip.keyring": b64(20) + "\n"},
			where: where{12, "keyring_file"}, key: "gossip.keyring_file", msg: "line 1: key is 20 bytes, must be 16, 24 or 32"},
		{name: "keyring empty", files: map[string]string{"/etc/rsguard/gossip.keyring": "# none\n"},
			where: where{12, "keyring_file"}, key: "gossip.keyring_file", msg: "holds no keys"},
		{name: "http tls loads", edits: []edit{httpTLS},
			files: map[string]string{"/tls/http.crt": cert, "/tls/http.key": key, "/tls/ca.pem": cert}},
		{name: "http tls key mismatch", edits: []edit{httpTLS},
			files: map[string]string{"/tls/http.crt": cert, "/tls/http.key": otherKey, "/tls/ca.pem": cert},
			where: where{28, "cert_file"}, key: "http.tls.cert_file", msg: "do not load"},
		{name: "http tls key missing", edits: []edit{httpTLS},
			files: map[string]string{"/tls/http.crt": cert, "/tls/ca.pem": cert},
			where: where{28, "key_file"}, key: "http.tls.key_file", msg: `cannot read key file "/tls/http.key"`},
		{name: "http client ca not pem", edits: []edit{httpTLS},
			files: map[string]string{"/tls/http.crt": cert, "/tls/http.key": key, "/tls/ca.pem": "junk"},
			where: where{28, "client_ca_file"}, key: "http.tls.client_ca_file", msg: "holds no PEM certificate"},
		{name: "mongod x509", edits: []edit{{pwLine, "  auth_mechanism: MONGODB-X509\n  tls: {ca_file: /tls/ca.pem, certificate_key_file: /tls/client.pem}\n"}},
			files: map[string]string{"/tls/ca.pem": cert, "/tls/client.pem": cert + key}},
		{name: "mongod client cert without key", edits: []edit{{pwLine, "  auth_mechanism: MONGODB-X509\n  tls: {certificate_key_file: /tls/client.pem}\n"}},
			files: map[string]string{"/tls/client.pem": cert},
			where: where{9, "certificate_key_file"}, key: "mongod.tls.certificate_key_file", msg: "do not load"},
		{name: "admin token env", edits: []edit{{"  listen: 127.0.0.2:9216\n", "  listen: 127.0.0.2:9216\n  admin_token_env: RSGUARD_TOKEN\n"}},
			env: map[string]string{"RSGUARD_TOKEN": "tok"},
			verify: func(t *testing.T, c *Config) {
				if c.HTTP.AdminToken.Reveal() != "tok" {
					t.Error("admin token not read")
				}
			}},
		{name: "admin token file missing", edits: []edit{{"  listen: 127.0.0.2:9216\n", "  listen: 127.0.0.2:9216\n  admin_token_file: /t\n"}},
			where: where{28, "admin_token_file"}, key: "http.admin_token_file", msg: `cannot read admin token file "/t"`},
		{name: "read token env", edits: []edit{{"  listen: 127.0.0.2:9216\n", "  listen: 127.0.0.2:9216\n  admin_token_env: RSGUARD_TOKEN\n  read_token_env: RSGUARD_READ\n"}},
			env: map[string]string{"RSGUARD_TOKEN": "tok", "RSGUARD_READ": "rd"},
			verify: func(t *testing.T, c *Config) {
				if c.HTTP.ReadToken.Reveal() != "rd" {
					t.Error("read token not read")
				}
			}},
		{name: "read token equal to the admin token", edits: []edit{{"  listen: 127.0.0.2:9216\n", "  listen: 127.0.0.2:9216\n  admin_token_env: RSGUARD_TOKEN\n  read_token_env: RSGUARD_READ\n"}},
			env:   map[string]string{"RSGUARD_TOKEN": "same", "RSGUARD_READ": "same"},
			where: where{29, "read_token_env"}, key: "http.read_token_env", msg: "must differ from the admin token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sys := newFakeSys()
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
			text := applyEdits(t, baseYAML, tt.edits...)
			c, err := parseText(text, sys)
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.verify != nil {
					tt.verify(t, c)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			findErr(t, err, tt.where.prefix(t, text, tt.key), tt.msg)
			if tt.isErr != nil && !errors.Is(err, tt.isErr) {
				t.Errorf("errors.Is(%v) = false", tt.isErr)
			}
			for _, v := range tt.files {
				if len(v) > 8 && strings.Contains(err.Error(), strings.TrimSpace(v)) {
					t.Errorf("error shows file contents: %v", err)
				}
			}
		})
	}
}

func TestLoadFromDisk(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil ||
		!strings.Contains(err.Error(), "missing.yaml: cannot read config file: no such file or directory") ||
		!errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// A password "file" that is a directory is refused rather than read.
	if err := os.Mkdir(filepath.Join(dir, "pwdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	text := applyEdits(t, baseYAML, edit{"/etc/rsguard/mongo.pass", "pwdir"})
	path := filepath.Join(dir, "node.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+":8:3: mongod.password_file: cannot read password file") ||
		!strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("directory as password file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pwdir2"), []byte(strings.Repeat("x", maxSecretFile+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(applyEdits(t, baseYAML, edit{"/etc/rsguard/mongo.pass", "pwdir2"})), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "is larger than") {
		t.Errorf("oversized password file: %v", err)
	}
}
