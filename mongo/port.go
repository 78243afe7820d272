package mongo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// PortChecker is implemented by Nodes that can look at their mongod's port without sending a
// command: the fast path of crash detection (failover-notes "Crash of the primary's mongod"). The
// driver cannot give that answer quickly: after a crash its pooled connections fail with EOF
// (FailureOther, which needs probe.failures_before_unreachable in a row) and server selection
// waits for the monitor's next check, rate-limited to one per 500 ms (minHeartbeatFrequencyMS),
// so "refused" shows only at the caller's deadline. A TCP dial says it in one round trip.
//
// Neither method carries a MongoDB command, so neither needs credentials or TLS, and neither can
// show a live mongod as dead: a dial that connects proves something listens.
type PortChecker interface {
	// Reach dials the mongod's port and closes the connection at once. nil: something listens.
	// An error that Classify maps to FailureRefused: nothing listens (the process is gone). A
	// timeout or any other error proves nothing either way.
	Reach(ctx context.Context) error
	// HoldIdle opens a TCP connection to the mongod's port and never writes to it. mongod does not
	// send unsolicited bytes and does not close idle connections (a TLS-only server waits for the
	// client's first bytes; mongoemu gives up after 30 s, which reads as a harmless blip), so the
	// connection ends only when the process dies (the kernel closes its sockets: EOF or reset),
	// its listener restarts or the network drops it. The caller must confirm with Reach before it
	// believes anything.
	HoldIdle(ctx context.Context) (IdleConn, error)
}

// IdleConn is a connection opened by HoldIdle.
type IdleConn interface {
	// Wait blocks until the connection ends and says how (io.EOF, a reset, or the error Close
	// caused).
	Wait() error
	// Close ends the connection; Wait then returns.
	Close() error
}

var _ PortChecker = (*DriverNode)(nil)

// Reach implements PortChecker.
func (n *DriverNode) Reach(ctx context.Context) error {
	c, err := dialPort(ctx, n.addr)
	if err != nil {
		return opError("connect", n.addr, err)
	}
	_ = c.Close()
	return nil
}

// HoldIdle implements PortChecker.
func (n *DriverNode) HoldIdle(ctx context.Context) (IdleConn, error) {
	c, err := dialPort(ctx, n.addr)
	if err != nil {
		return nil, opError("connect", n.addr, err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		// Keepalive also ends the connection when the host itself vanishes, but late (tens of
		// seconds); the probes see that first. It costs nothing.
		_ = tc.SetKeepAlivePeriod(15 * time.Second)
		_ = tc.SetKeepAlive(true)
	}
	return &idleConn{c: c, addr: n.addr}, nil
}

// dialPort dials addr as the driver would: a path ending in .sock is a unix domain socket.
func dialPort(ctx context.Context, addr string) (net.Conn, error) {
	network := "tcp"
	if strings.HasSuffix(addr, ".sock") {
		network = "unix"
	}
	var d net.Dialer
	if _, ok := ctx.Deadline(); !ok {
		d.Timeout = DefaultProbeTimeout
	}
	return d.DialContext(ctx, network, addr)
}

type idleConn struct {
	c    net.Conn
	addr string
}

func (c *idleConn) Wait() error {
	var b [1]byte
	for {
		n, err := c.c.Read(b[:])
		if err != nil {
			return opError("idle connection", c.addr, err)
		}
		if n > 0 {
			// mongod never speaks first; whatever this is, it is not a closed connection.
			continue
		}
	}
}

func (c *idleConn) Close() error {
	if err := c.c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close idle connection to %s: %w", c.addr, err)
	}
	return nil
}
