package mongoemu

import (
	"context"
	"net"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/wire"
)

// heartbeatClients keeps one connection per peer for heartbeats, redialled after an error, the
// way mongod's network interface keeps pooled internal connections.
type heartbeatClients struct {
	mu     sync.Mutex
	m      map[string]*wire.Client
	dial   func(ctx context.Context, host string, timeout time.Duration) (*wire.Client, error)
	closed bool // after closeAll: an aborted node dials nobody
}

func newHeartbeatClients(dial func(ctx context.Context, host string, timeout time.Duration) (*wire.Client, error)) *heartbeatClients {
	return &heartbeatClients{m: map[string]*wire.Client{}, dial: dial}
}

// call runs cmd on host over the cached connection, dropping it on any network error.
func (h *heartbeatClients) call(ctx context.Context, host string, cmd bson.D, timeout time.Duration) (bson.Raw, error) {
	h.mu.Lock()
	c := h.m[host]
	delete(h.m, host) // exclusive use while in flight
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, net.ErrClosed
	}
	if c == nil {
		var err error
		if c, err = h.dial(ctx, host, timeout); err != nil {
			return nil, err
		}
	}
	reply, err := c.Command(ctx, cmd, timeout)
	if err != nil {
		if _, isCmd := err.(*wire.CommandError); !isCmd {
			_ = c.Close()
			return nil, err
		}
	}
	h.mu.Lock()
	if old := h.m[host]; old != nil {
		_ = old.Close()
	}
	if h.closed {
		_ = c.Close()
	} else {
		h.m[host] = c
	}
	h.mu.Unlock()
	return reply, err
}

func (h *heartbeatClients) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for k, c := range h.m {
		_ = c.Close()
		delete(h.m, k)
	}
}

// dialInternal connects to a peer as an internal client (hello internalClient), so failCommand
// and user-connection bookkeeping treat it like mongod's intra-cluster traffic; with --keyFile
// or TLS it authenticates first (auth_internal.go).
func (rc *replCoord) dialInternal(ctx context.Context, host string, timeout time.Duration) (*wire.Client, error) {
	return rc.n.dialPeer(ctx, host, timeout)
}

// callOnce runs one command on a fresh internal connection (votes, stepUp handoff).
func (rc *replCoord) callOnce(ctx context.Context, host string, cmd bson.D, timeout time.Duration) (bson.Raw, error) {
	c, err := rc.dialInternal(ctx, host, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Command(ctx, cmd, timeout)
}
