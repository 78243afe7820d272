package lab

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/testcerts"
)

// Security starts the set the way production sets run: members authenticate to each other
// with a key file (--keyFile implies --auth), clients and members speak TLS (--tlsMode
// requireTLS with a CA and certificates made for the lab), and a root user is created through
// the localhost exception right after the set is initiated. The same flags work on a real mongod.
type Security struct {
	// KeyFile generates a key file shared by every member.
	KeyFile bool
	// TLS runs every member with --tlsMode requireTLS --tlsCertificateKeyFile --tlsCAFile
	// --tlsAllowConnectionsWithoutCertificates (clients log in with passwords, not certificates).
	TLS bool
	// RootUser and RootPassword name the root user (default "root" / "rootpw").
	RootUser, RootPassword string
}

// Credential is a user to log in as (SCRAM, AuthSource admin).
type Credential struct {
	Username, Password, AuthSource string
}

// security is the material NewCluster made for Options.Security.
type security struct {
	opts    Security
	keyFile string
	certs   *testcerts.Set

	mu      sync.Mutex
	hasCred bool // the root user exists
}

func newSecurity(dir string, s Security) (*security, error) {
	if s.RootUser == "" {
		s.RootUser, s.RootPassword = "root", "rootpw"
	}
	cs := &security{opts: s}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("security material: %w", err)
	}
	if s.KeyFile {
		cs.keyFile = filepath.Join(dir, "keyfile")
		if err := WriteKeyFile(cs.keyFile); err != nil {
			return nil, err
		}
	}
	if s.TLS {
		certs, err := testcerts.New(dir)
		if err != nil {
			return nil, fmt.Errorf("security material: certificates: %w", err)
		}
		cs.certs = certs
	}
	return cs, nil
}

// WriteKeyFile writes a fresh random key file readable by its owner only, as mongod requires.
func WriteKeyFile(path string) error {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(b)+"\n"), 0o400); err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	return nil
}

// args are the mongod flags of the security options; keyFile overrides the shared key file.
func (s *security) args(keyFile string) []string {
	var a []string
	if keyFile == "" {
		keyFile = s.keyFile
	}
	if keyFile != "" {
		a = append(a, "--keyFile", keyFile)
	}
	if s.certs != nil {
		a = append(a, "--tlsMode", "requireTLS", "--tlsCertificateKeyFile", s.certs.ServerFile,
			"--tlsCAFile", s.certs.CAFile, "--tlsAllowConnectionsWithoutCertificates")
	}
	return a
}

// tlsConfig trusts the lab CA (nil without TLS).
func (s *security) tlsConfig() *tls.Config {
	if s == nil || s.certs == nil {
		return nil
	}
	pem, err := os.ReadFile(s.certs.CAFile)
	if err != nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// credential is the root user once it exists.
func (s *security) credential() (Credential, bool) {
	if s == nil {
		return Credential{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.root(), s.hasCred
}

func (s *security) root() Credential {
	return Credential{Username: s.opts.RootUser, Password: s.opts.RootPassword, AuthSource: "admin"}
}

// createRoot creates the root user on the primary through the localhost exception and waits
// until every member has it (w: all members), then switches the lab's clients to it.
func (c *Cluster) createRoot(ctx context.Context, p *Host) error {
	s := c.sec
	cmd := bson.D{{Key: "createUser", Value: s.opts.RootUser}, {Key: "pwd", Value: s.opts.RootPassword},
		{Key: "roles", Value: bson.A{"root"}},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: int32(c.opts.Members)}, {Key: "wtimeout", Value: int32(30000)}}}}
	if _, err := p.Command(ctx, cmd); err != nil {
		return fmt.Errorf("createUser %s on %s: %w", s.opts.RootUser, p, err)
	}
	s.mu.Lock()
	s.hasCred = true
	s.mu.Unlock()
	for _, h := range c.hosts {
		h.dropNode()
	}
	c.Timeline.Mark("root user %s created on %s", s.opts.RootUser, p)
	return nil
}

// RootCredential is the root user's credential (zero when the cluster has no Security).
func (c *Cluster) RootCredential() Credential {
	if c.sec == nil {
		return Credential{}
	}
	return c.sec.root()
}

// HasRoot says whether the root user exists (clients should log in as it).
func (c *Cluster) HasRoot() bool {
	_, ok := c.sec.credential()
	return ok
}

// TLSConfig trusts the lab CA; nil without TLS.
func (c *Cluster) TLSConfig() *tls.Config { return c.sec.tlsConfig() }

// CAFile is the lab CA (empty without TLS).
func (c *Cluster) CAFile() string {
	if c.sec == nil || c.sec.certs == nil {
		return ""
	}
	return c.sec.certs.CAFile
}

// ClientCertFile is a client certificate and key signed by the lab CA, and its subject (the
// MONGODB-X509 user name).
func (c *Cluster) ClientCertFile() (path, subject string) {
	if c.sec == nil || c.sec.certs == nil {
		return "", ""
	}
	return c.sec.certs.ClientFile, c.sec.certs.ClientSubject
}

// URIParams are the connection-string options other drivers (pymongo) need for this set:
// tls=true&tlsCAFile=... when TLS is on.
func (c *Cluster) URIParams() string {
	if f := c.CAFile(); f != "" {
		return "&tls=true&tlsCAFile=" + url.QueryEscape(f)
	}
	return ""
}

// SetKeyFile makes the host's next start use another key file (a member with the wrong key);
// "" goes back to the cluster's key file.
func (h *Host) SetKeyFile(path string) {
	h.mu.Lock()
	h.keyFile = path
	h.mu.Unlock()
	h.proc.Args = h.Args()
}

// TLSConfig trusts the lab CA when the host speaks TLS (nil otherwise).
func (h *Host) TLSConfig() *tls.Config { return h.sec.tlsConfig() }

// Credential is the user the host's clients log in as, if any (none on arbiters).
func (h *Host) Credential() (Credential, bool) {
	c, ok := h.sec.credential()
	return c, ok && !h.Arbiter
}

func (h *Host) securityArgs() []string {
	if h.sec == nil {
		return nil
	}
	h.mu.Lock()
	kf := h.keyFile
	h.mu.Unlock()
	return h.sec.args(kf)
}
