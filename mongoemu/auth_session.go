package mongoemu

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"sync"
	"sync/atomic"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// authState is the node-wide security configuration: whether authorization is enforced, the
// internal user's key-file credentials and the TLS configuration (auth_options.go).
type authState struct {
	enabled  bool
	internal *internalCredentials // nil without a key file
	tls      *tlsState            // nil with tlsMode disabled

	localhostLogged atomic.Bool
}

func newAuthState(sec Security) (*authState, error) {
	if err := sec.validate(); err != nil {
		return nil, err
	}
	a := &authState{enabled: sec.authEnabled()}
	if sec.KeyFile != "" && sec.clusterAuthMode() != "x509" {
		keys, kerr := readKeyFile(sec.KeyFile)
		if kerr != nil {
			return nil, &KeyFileError{Err: kerr}
		}
		ic, err := newInternalCredentials(keys)
		if err != nil {
			return nil, &KeyFileError{Err: mongoerr.New(mongoerr.BadValue, "%s", err.Error())}
		}
		a.internal = ic
	}
	if sec.tlsMode() != "disabled" {
		ts, err := newTLSState(sec)
		if err != nil {
			return nil, err
		}
		a.tls = ts
	}
	return a, nil
}

// connAuth is one connection's AuthorizationSession: in 7.0 a connection authenticates as at
// most one user (auth/authorization_session_impl.cpp _authenticatedUser).
type connAuth struct {
	mu   sync.Mutex
	user *userName
	conv *saslConv
	// noLocalhost latches once users exist, as _checkShouldAllowLocalhost stops re-checking.
	noLocalhost bool
}

func (a *connAuth) current() *userName {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.user
}

func (a *connAuth) set(u *userName) {
	a.mu.Lock()
	a.user = u
	a.conv = nil
	a.mu.Unlock()
}

// isLocalhost is HostAndPort::isLocalHost: any 127.x address or ::1 (util/net/hostandport.cpp),
// so every member of a loopback test set counts as local.
func (c *conn) isLocalhost() bool {
	addr, ok := c.nc.RemoteAddr().(*net.TCPAddr)
	return ok && addr.IP.IsLoopback()
}

// peerCertificate is the verified client certificate of a TLS connection, if any.
func (c *conn) peerCertificate() *x509.Certificate {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		if pc, ok := c.nc.(*peekedConn); ok {
			tc, _ = pc.Conn.(*tls.Conn)
		}
	}
	if tc == nil {
		return nil
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return nil
	}
	return st.PeerCertificates[0]
}
