package mongo

import (
	"context"
	"fmt"
	"time"
)

// FreshAsker is implemented by Nodes that can ask their mongod hello over a connection of its
// own, outside the pool. While a mongod is silent (a link blip, a frozen process) the pooled
// connections wait on requests the network swallowed (the driver keeps a timed-out connection to
// read its late reply) and server selection waits on the monitor's next check (see PortChecker),
// so for a while after the mongod answers again the pool still cannot say so. A question over a
// new connection can: the supervisor's silence watch asks this way.
type FreshAsker interface {
	// HelloFresh runs hello on a client of its own (one connection, its own monitor), closed
	// before it returns. nil or a *CommandError: the mongod answered. It is bounded by ctx's
	// deadline (DefaultProbeTimeout without one).
	HelloFresh(ctx context.Context) error
}

var _ FreshAsker = (*DriverNode)(nil)

// HelloFresh implements FreshAsker with the options this node was dialled with (credentials and
// TLS included), its pool limited to one connection and its timeouts to ctx's deadline.
func (n *DriverNode) HelloFresh(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultProbeTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	left := time.Until(deadline)
	if left <= 0 {
		return opError("hello", n.addr, context.DeadlineExceeded)
	}
	o := n.opts
	o.MaxPoolSize = 1
	o.ConnectTimeout = min(o.ConnectTimeout, left)
	o.ServerSelectionTimeout = left
	c, err := Dial(ctx, n.base, o)
	if err != nil {
		return fmt.Errorf("mongo: fresh hello: %w", err)
	}
	_, err = c.Hello(ctx)
	// Closing waits for nothing the mongod must answer, but a frozen one must not hold it up.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), left)
	defer cancel()
	_ = c.Close(cctx)
	return err
}
