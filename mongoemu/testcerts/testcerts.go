// Package testcerts makes a throwaway CA with server and client certificates for tests of
// --tlsMode and MONGODB-X509 (mongoemu package tests and the e2e harness alike).
package testcerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Set is a CA and the PEM files signed by it, written in Dir.
type Set struct {
	Dir    string
	CAFile string // the CA certificate (--tlsCAFile, tlsCAFile= in URIs)
	// ServerFile holds a certificate and key valid for 127.0.0.0/8 and localhost, usable both as
	// --tlsCertificateKeyFile and as a member's client certificate.
	ServerFile string
	// ClientFile is a client certificate and key; ClientSubject is its RFC 2253 subject, the
	// user name MONGODB-X509 authenticates as in $external.
	ClientFile    string
	ClientSubject string

	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
}

// New writes a fresh CA, server and client certificate under dir (files 0600).
func New(dir string) (*Set, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ca key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rsguard test CA", Organization: []string{"rsguard"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("ca cert: %w", err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	s := &Set{Dir: dir, ca: ca, caKey: caKey, CAFile: filepath.Join(dir, "ca.pem"),
		ServerFile: filepath.Join(dir, "server.pem"), ClientFile: filepath.Join(dir, "client.pem")}
	if err := os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		return nil, fmt.Errorf("write ca: %w", err)
	}
	server := pkix.Name{CommonName: "127.0.0.1", Organization: []string{"rsguard"}, OrganizationalUnit: []string{"members"}}
	if err := s.issue(s.ServerFile, server, 2, true); err != nil {
		return nil, err
	}
	client := pkix.Name{CommonName: "app", Organization: []string{"rsguard"}, OrganizationalUnit: []string{"clients"}}
	if err := s.issue(s.ClientFile, client, 3, false); err != nil {
		return nil, err
	}
	s.ClientSubject = client.String()
	return s, nil
}

// Issue writes another certificate with subject under path (e.g. a client whose subject is
// not a user).
func (s *Set) Issue(path string, subject pkix.Name, serial int64) error {
	return s.issue(path, subject, serial, false)
}

func (s *Set) issue(path string, subject pkix.Name, serial int64, server bool) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		tmpl.DNSNames = []string{"localhost"}
		for i := 1; i < 255; i++ { // every loopback host the e2e harness leases
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IPv4(127, 0, 0, byte(i)))
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, &key.PublicKey, s.caKey)
	if err != nil {
		return fmt.Errorf("cert: %w", err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})...)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
