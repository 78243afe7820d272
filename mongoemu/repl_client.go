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
	closed bool // after closeAll: an aborted node dials nobody
}

func newHeartbeatClients() *heartbeatClients { return &heartbeatClients{m: map[string]*wire.Client{}} }

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
		if c, err = dialInternal(ctx, host, timeout); err != nil {
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

// dialInternal connects to a peer and identifies as an internal client (hello internalClient), so
// failCommand and user-connection bookkeeping treat it like mongod's intra-cluster traffic.
func dialInternal(ctx context.Context, host string, timeout time.Duration) (*wire.Client, error) {
	c, err := wire.Dial(ctx, host, timeout)
	if err != nil {
		return nil, err
	}
	_, err = c.Command(ctx, bson.D{{Key: "hello", Value: 1}, {Key: "helloOk", Value: true},
		{Key: "internalClient", Value: bson.D{{Key: "minWireVersion", Value: int32(maxWireVersion)}, {Key: "maxWireVersion", Value: int32(maxWireVersion)}}},
		{Key: "$db", Value: "admin"}}, timeout)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// callOnce runs one command on a fresh internal connection (votes, stepUp handoff).
func callOnce(ctx context.Context, host string, cmd bson.D, timeout time.Duration) (bson.Raw, error) {
	c, err := dialInternal(ctx, host, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Command(ctx, cmd, timeout)
}
