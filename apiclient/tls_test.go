package apiclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA is a CA with a server certificate for 127.0.0.1 and a client certificate, as PEM files.
type testCA struct {
	pool                      *x509.CertPool
	caFile, certFile, keyFile string // the client's files
	server                    tls.Certificate
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	dir := t.TempDir()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rsguard test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "rsguard test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		b, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	srvDER, srvKey := issue(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	cliDER, cliKey := issue(3, x509.ExtKeyUsageClientAuth, nil)
	ca := testCA{pool: x509.NewCertPool(), caFile: write("ca.pem", "CERTIFICATE", caDER),
		certFile: write("client.pem", "CERTIFICATE", cliDER), keyFile: write("client-key.pem", "EC PRIVATE KEY", keyDER(cliKey))}
	ca.pool.AddCert(caCert)
	ca.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	return ca
}

// TestTLS: a host:port with a CA file is spoken to over https, the server's certificate is
// verified against the CA and the client certificate is presented.
func TestTLS(t *testing.T) {
	ca := newTestCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			t.Errorf("request without a client certificate")
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"set":"rs0","health":"healthy"}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.server}, ClientCAs: ca.pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")

	c, err := New(Options{Addr: addr, CAFile: ca.caFile, CertFile: ca.certFile, KeyFile: ca.keyFile})
	if err != nil {
		t.Fatal(err)
	}
	if c.URL() != "https://"+addr {
		t.Errorf("URL %s, want https://%s", c.URL(), addr)
	}
	cl, err := c.Cluster(context.Background())
	if err != nil || cl.Set != "rs0" {
		t.Fatalf("cluster %+v, %v", cl, err)
	}

	// Without the client certificate the handshake fails: a transport error, not a problem.
	c, err = New(Options{Addr: addr, CAFile: ca.caFile})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Cluster(context.Background())
	var te *TransportError
	if !asTransport(err, &te) {
		t.Fatalf("without a client certificate: %v, want a transport error", err)
	}
	// Without the CA the server's certificate is not trusted.
	c, err = New(Options{Addr: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = c.Cluster(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: %v, want a certificate error", err)
	}
}
