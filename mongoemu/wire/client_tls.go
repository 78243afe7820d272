package wire

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// DialTLS connects to addr and completes a TLS handshake with cfg (members of a set whose
// tlsMode is preferTLS or requireTLS talk to each other over TLS). ServerName is set from addr.
func DialTLS(ctx context.Context, addr string, timeout time.Duration, cfg *tls.Config) (*Client, error) {
	d := net.Dialer{Timeout: timeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c := cfg.Clone()
	if host, _, err := net.SplitHostPort(addr); err == nil && c.ServerName == "" {
		c.ServerName = host
	}
	tc := tls.Client(raw, c)
	_ = tc.SetDeadline(time.Now().Add(timeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("tls handshake with %s: %w", addr, err)
	}
	_ = tc.SetDeadline(time.Time{})
	return &Client{addr: addr, conn: tc, br: bufio.NewReaderSize(tc, 64<<10)}, nil
}
