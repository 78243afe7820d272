package harness

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
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rsguard/rsguard/mongoemu/testcerts"
)

// Security starts the set the way production sets run: members authenticate to each other
// with a key file (--keyFile implies --auth), clients and members speak TLS (--tlsMode
// requireTLS with a CA and certificates made for the test), and a root user is created through
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

// clusterSecurity is the material NewCluster made for Options.Security.
type clusterSecurity struct {
	opts    Security
	keyFile string
	certs   *testcerts.Set

	mu   sync.Mutex
	cred *options.Credential // set once the root user exists
}

func newClusterSecurity(dir string, s Security) (*clusterSecurity, error) {
	if s.RootUser == "" {
		s.RootUser, s.RootPassword = "root", "rootpw"
	}
	cs := &clusterSecurity{opts: s}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
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
			return nil, fmt.Errorf("certificates: %w", err)
		}
		cs.certs = certs
	}
	return cs, nil
}

// WriteKeyFile writes a fresh random key file readable by its owner only, as mongod requires.
func WriteKeyFile(path string) error {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(b)+"\n"), 0o400)
}

// args are the mongod flags of the security options; keyFile overrides the shared key file.
func (s *clusterSecurity) args(keyFile string) []string {
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

// apply adds TLS (trusting the test CA) and, once it exists, the root credential. Arbiters
// hold no users (they do not replicate data), so clients reach them through the localhost
// exception only, as on mongod: withCred is false for them.
func (s *clusterSecurity) apply(o *options.ClientOptions, withCred bool) *options.ClientOptions {
	if s == nil {
		return o
	}
	if s.certs != nil {
		pem, err := os.ReadFile(s.certs.CAFile)
		if err == nil {
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			o.SetTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cred != nil && withCred {
		o.SetAuth(*s.cred)
	}
	return o
}

// createRoot creates the root user on the primary through the localhost exception and waits
// until every member has it (w: all members), then switches the harness's clients to it.
func (c *Cluster) createRoot(ctx context.Context, p *Host) error {
	s := c.sec
	cmd := bson.D{{Key: "createUser", Value: s.opts.RootUser}, {Key: "pwd", Value: s.opts.RootPassword},
		{Key: "roles", Value: bson.A{"root"}},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: int32(c.opts.Members)}, {Key: "wtimeout", Value: int32(30000)}}}}
	if _, err := p.Command(ctx, cmd); err != nil {
		return fmt.Errorf("createUser %s on %s: %w", s.opts.RootUser, p, err)
	}
	s.mu.Lock()
	s.cred = &options.Credential{Username: s.opts.RootUser, Password: s.opts.RootPassword, AuthSource: "admin"}
	s.mu.Unlock()
	for _, h := range c.hosts {
		h.dropAdminClient()
	}
	c.Timeline.Mark("root user %s created on %s", s.opts.RootUser, p)
	return nil
}

// RootCredential is the root user's credential (zero when the cluster has no Security).
func (c *Cluster) RootCredential() options.Credential {
	if c.sec == nil {
		return options.Credential{}
	}
	return options.Credential{Username: c.sec.opts.RootUser, Password: c.sec.opts.RootPassword, AuthSource: "admin"}
}

// CAFile is the test CA (empty without TLS); ClientCertFile a client certificate it signed and
// ClientSubject that certificate's subject (the MONGODB-X509 user name).
func (c *Cluster) CAFile() string {
	if c.sec == nil || c.sec.certs == nil {
		return ""
	}
	return c.sec.certs.CAFile
}

// ClientCertFile is a client certificate and key signed by the test CA.
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

// UserClientOptions is a replica-set client logging in as user/pwd (authSource admin) over the
// cluster's TLS settings, without the root credential.
func (c *Cluster) UserClientOptions(user, pwd string) *options.ClientOptions {
	o := options.Client().ApplyURI(c.URI()).SetServerSelectionTimeout(5 * time.Second).SetAppName("rsguard-e2e")
	if c.sec != nil && c.sec.certs != nil {
		pem, _ := os.ReadFile(c.sec.certs.CAFile)
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		o.SetTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	}
	return o.SetAuth(options.Credential{Username: user, Password: pwd, AuthSource: "admin"})
}

// SetKeyFile makes the host's next start use another key file (a member with the wrong key);
// "" goes back to the cluster's key file.
func (h *Host) SetKeyFile(path string) {
	h.mu.Lock()
	h.keyFile = path
	h.mu.Unlock()
	h.proc.Args = h.Args()
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

// dropAdminClient closes the harness's admin client so the next Command reconnects with the
// current credentials.
func (h *Host) dropAdminClient() {
	h.mu.Lock()
	admin := h.admin
	h.admin = nil
	h.mu.Unlock()
	if admin != nil {
		disconnect(admin)
	}
}
