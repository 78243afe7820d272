package lab

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongo"
)

// Node is the host's own direct client (through mongo/, like every MongoDB call of rsguard):
// short timeouts so a dead or frozen host fails calls fast; over TLS and as root once the
// cluster's security has a root user (arbiters hold no users and are reached through the
// localhost exception, as on mongod).
func (h *Host) Node() (*mongo.DriverNode, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, fmt.Errorf("%s: host is closed", h)
	}
	if h.node != nil {
		return h.node, nil
	}
	o := mongo.Options{URI: h.HostPort(), ConnectTimeout: h.connTimeout, ServerSelectionTimeout: 2 * time.Second,
		HeartbeatInterval: 500 * time.Millisecond, MaxPoolSize: 16, AppName: h.appName}
	if h.sec != nil {
		o.TLS = h.sec.tlsConfig()
		if c, ok := h.sec.credential(); ok && !h.Arbiter {
			o.Username, o.Password, o.AuthSource = c.Username, c.Password, c.AuthSource
		}
	}
	log := h.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n, err := mongo.Dial(context.Background(), log, o)
	if err != nil {
		return nil, err
	}
	h.node = n
	return n, nil
}

// dropNode closes the host's client so the next call reconnects with the current credentials.
func (h *Host) dropNode() {
	h.mu.Lock()
	n := h.node
	h.node = nil
	h.mu.Unlock()
	if n != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_ = n.Close(ctx)
		cancel()
	}
}

// Command runs an admin command on this host over the host's own client (5s when ctx has no
// deadline).
func (h *Host) Command(ctx context.Context, cmd bson.D) (bson.Raw, error) {
	n, err := h.Node()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	return n.Command(ctx, cmd)
}

// Hello runs hello on h and returns the whole reply.
func (h *Host) Hello(ctx context.Context) (bson.M, error) {
	raw, err := h.Command(ctx, bson.D{{Key: "hello", Value: 1}})
	if err != nil {
		return nil, err
	}
	var m bson.M
	return m, bson.Unmarshal(raw, &m)
}

// DiskStall makes storage writes block (on) or resume (off) while reads and hello keep working:
// the mongoemuDiskStall fail point {blocked: true} on the emulator, fsyncLock/fsyncUnlock on a
// real mongod (which needs no test commands but, unlike the fail point, nests: each lock needs
// one unlock).
func (h *Host) DiskStall(ctx context.Context, on bool) error {
	var cmd bson.D
	switch {
	case h.Emulated && on:
		cmd = bson.D{{Key: "configureFailPoint", Value: "mongoemuDiskStall"}, {Key: "mode", Value: "alwaysOn"},
			{Key: "data", Value: bson.D{{Key: "blocked", Value: true}}}}
	case h.Emulated:
		cmd = bson.D{{Key: "configureFailPoint", Value: "mongoemuDiskStall"}, {Key: "mode", Value: "off"}}
	case on:
		cmd = bson.D{{Key: "fsync", Value: 1}, {Key: "lock", Value: true}}
	default:
		cmd = bson.D{{Key: "fsyncUnlock", Value: 1}}
	}
	if _, err := h.Command(ctx, cmd); err != nil {
		return fmt.Errorf("%s: disk stall %v: %w", h, on, err)
	}
	h.mark("disk stall %v", on)
	return nil
}

// StopApplying turns mongod's rsSyncApplyStop fail point on or off on h: its oplog applier
// blocks while its fetcher keeps fetching (oplog_applier_impl.cpp), so h falls behind, w:majority
// writes that need it wait, and the primary's own disk is untouched. The real fail point name
// makes it work on a real mongod too; it needs --setParameter enableTestCommands=1.
func (h *Host) StopApplying(ctx context.Context, on bool) error {
	mode := "off"
	if on {
		mode = "alwaysOn"
	}
	if _, err := h.Command(ctx, bson.D{{Key: "configureFailPoint", Value: "rsSyncApplyStop"}, {Key: "mode", Value: mode}}); err != nil {
		return fmt.Errorf("%s: rsSyncApplyStop %s: %w", h, mode, err)
	}
	h.mark("applying stopped %v", on)
	return nil
}
