package mongoemu

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// tlsState holds the server and client TLS configuration of --tlsMode other than disabled.
// The node presents its --tlsCertificateKeyFile both to clients and, as mongod does without a
// separate tlsClusterFile, to the members it connects to (util/net/ssl_manager_openssl.cpp).
type tlsState struct {
	mode   string
	server *tls.Config
	client *tls.Config
}

func newTLSState(sec Security) (*tlsState, error) {
	cert, err := tls.LoadX509KeyPair(sec.TLSCertificateKeyFile, sec.TLSCertificateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read PEM key file %s: %w", sec.TLSCertificateKeyFile, err)
	}
	var pool *x509.CertPool
	if sec.TLSCAFile != "" {
		pem, err := os.ReadFile(sec.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read certificate file: %s: %w", sec.TLSCAFile, err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cannot read certificate file: %s: no certificates", sec.TLSCAFile)
		}
	}
	server := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, ClientCAs: pool}
	// A CA file makes mongod ask for and verify client certificates; without
	// allowConnectionsWithoutCertificates a client that sends none is refused
	// (sslGlobalParams.sslWeakCertificateValidation).
	switch {
	case pool == nil:
		server.ClientAuth = tls.NoClientCert
	case sec.TLSAllowInvalidCertificates:
		server.ClientAuth = tls.RequestClientCert
	case sec.TLSAllowConnectionsWithoutCertificates:
		server.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		server.ClientAuth = tls.RequireAndVerifyClientCert
	}
	client := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12,
		InsecureSkipVerify: sec.TLSAllowInvalidCertificates || pool == nil}
	return &tlsState{mode: sec.tlsMode(), server: server, client: client}, nil
}

// peekedConn is a connection whose first bytes were read to tell TLS from plain text.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// errPlainOnTLS is a plain connection to a requireTLS node; mongod logs and closes it.
var errPlainOnTLS = errors.New("plain connection refused in requireTLS mode")

// wrapTLS applies --tlsMode to an accepted connection: requireTLS only speaks TLS; allowTLS and
// preferTLS accept both and tell them apart by the first byte (0x16, a TLS handshake record),
// as mongod's transport layer does (transport/asio/asio_session_impl.cpp maybeHandshakeSSL).
func (n *Node) wrapTLS(nc net.Conn) (net.Conn, error) {
	if n.auth == nil || n.auth.tls == nil {
		return nc, nil
	}
	ts := n.auth.tls
	// The connection is not in n.conns until served: a shutdown must still end a client that
	// connected and sent nothing, or Stop would wait for the handshake deadline.
	handshook := make(chan struct{})
	defer close(handshook)
	go func() {
		select {
		case <-n.quit:
			_ = nc.Close()
		case <-handshook:
		}
	}()
	br := bufio.NewReader(nc)
	_ = nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	first, err := br.Peek(1)
	_ = nc.SetReadDeadline(time.Time{})
	if err != nil {
		return nil, fmt.Errorf("peek: %w", err)
	}
	pc := &peekedConn{Conn: nc, r: br}
	if first[0] != 0x16 {
		if ts.mode == "requireTLS" {
			n.events.info("NETWORK", 22988, "Error receiving request from client. Ending connection from remote",
				"error", "SSLHandshakeFailed: The server is configured to only allow SSL connections",
				"remote", nc.RemoteAddr().String())
			return nil, errPlainOnTLS
		}
		return pc, nil
	}
	tc := tls.Server(pc, ts.server)
	_ = tc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := tc.Handshake(); err != nil {
		n.events.info("NETWORK", 22988, "Error receiving request from client. Ending connection from remote",
			"error", "SSLHandshakeFailed: "+err.Error(), "remote", nc.RemoteAddr().String())
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	_ = tc.SetDeadline(time.Time{})
	return tc, nil
}

// internalTLS says how this node dials its peers: with TLS unless the mode is disabled or
// allowTLS (which only accepts TLS, and connects out in plain text).
func (n *Node) internalTLS() *tls.Config {
	if n.auth == nil || n.auth.tls == nil || n.auth.tls.mode == "allowTLS" {
		return nil
	}
	return n.auth.tls.client
}

// sslLogValue is the "ssl" attribute of "Waiting for connections" (23016).
func (n *Node) sslLogValue() string {
	if n.auth != nil && n.auth.tls != nil {
		return "on"
	}
	return "off"
}
