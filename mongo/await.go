package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TopologyWaiter is implemented by Nodes that can wait for their mongod's topology to change: the
// awaitable hello (spec §1.7; mongod's hello with topologyVersion and maxAwaitTimeMS, the
// request the drivers' streaming monitors make) answers as soon as the counter moves (an
// election won, catch-up or drain over, a stepdown, a reconfig) or after maxAwait with the same
// topologyVersion. A sidecar that waits on it learns of its own mongod's elections at once rather
// than at its next probe.
type TopologyWaiter interface {
	// AwaitHello runs hello with tv and maxAwait; ctx's deadline must leave room for maxAwait.
	AwaitHello(ctx context.Context, tv TopologyVersion, maxAwait time.Duration) (Hello, error)
}

var _ TopologyWaiter = (*DriverNode)(nil)

// AwaitHello implements TopologyWaiter.
func (n *DriverNode) AwaitHello(ctx context.Context, tv TopologyVersion, maxAwait time.Duration) (Hello, error) {
	pid, err := bson.ObjectIDFromHex(tv.ProcessID)
	if err != nil {
		return Hello{}, fmt.Errorf("awaitable hello on %s: topologyVersion.processId %q: %w", n.addr, tv.ProcessID, err)
	}
	raw, err := n.admin(ctx, "hello", bson.D{
		{Key: "hello", Value: 1},
		{Key: "topologyVersion", Value: bson.D{{Key: "processId", Value: pid}, {Key: "counter", Value: tv.Counter}}},
		{Key: "maxAwaitTimeMS", Value: maxAwait.Milliseconds()},
	})
	if err != nil {
		return Hello{}, err
	}
	return DecodeHello(raw), nil
}
