package lab

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Initiate runs replSetInitiate with InitialConfig on the first host.
func (c *Cluster) Initiate(ctx context.Context) error {
	first := c.hosts[0]
	if _, err := first.Command(ctx, bson.D{{Key: "replSetInitiate", Value: c.InitialConfig()}}); err != nil {
		return fmt.Errorf("replSetInitiate on %s: %w", first, err)
	}
	c.Timeline.Mark("replSetInitiate on %s", first)
	return nil
}

// InitialConfig is the replSetInitiate document: members in host order, _id 0.., arbiters
// last with arbiterOnly, and Options.Settings.
func (c *Cluster) InitialConfig() bson.D {
	var members bson.A
	for i, h := range c.hosts {
		m := bson.D{{Key: "_id", Value: int32(i)}, {Key: "host", Value: h.HostPort()}}
		if h.Arbiter {
			m = append(m, bson.E{Key: "arbiterOnly", Value: true})
		}
		members = append(members, m)
	}
	cfg := bson.D{{Key: "_id", Value: c.opts.ReplSet}, {Key: "members", Value: members}}
	if c.opts.Settings != nil {
		cfg = append(cfg, bson.E{Key: "settings", Value: c.opts.Settings})
	}
	return cfg
}

// ElectFirst starts the first election of a just-initiated set with replSetStepUp on first
// (again until a primary is seen) instead of waiting out electionTimeoutMillis (10 s by
// default): a start-up shortcut only; the election settings stay what the config says, so every
// failover after it runs with them.
func (c *Cluster) ElectFirst(ctx context.Context, first *Host, timeout time.Duration) (*Host, error) {
	var p *Host
	err := Poll(ctx, timeout, func(ctx context.Context) error {
		var err error
		if p, err = c.Primary(ctx); err == nil {
			return nil
		}
		_, err = first.Command(ctx, bson.D{{Key: "replSetStepUp", Value: 1}})
		return fmt.Errorf("no primary yet (replSetStepUp on %s: %v)", first, err)
	})
	if err != nil {
		return nil, fmt.Errorf("first election of %s: %w", c, err)
	}
	c.Timeline.Mark("first primary %s", p)
	return p, nil
}
