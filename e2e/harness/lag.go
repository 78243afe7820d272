package harness

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// StopApplying turns mongod's rsSyncApplyStop fail point on or off on h: its oplog applier
// blocks while its fetcher keeps fetching (oplog_applier_impl.cpp), so h falls behind, w:majority
// writes that need it wait, and the primary's own disk is untouched. The real fail point name
// makes it work on a real mongod too; it needs --setParameter enableTestCommands=1, which every
// harness host gets.
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

// LagSecondaries makes the given hosts stop applying the oplog (on) or resume (off). With no
// hosts it acts on every data-bearing host that is not the writable primary right now, which is
// how a drill makes the secondaries lag while the primary stays healthy.
func (c *Cluster) LagSecondaries(ctx context.Context, on bool, hosts ...*Host) error {
	if len(hosts) == 0 {
		for _, h := range c.DataHosts() {
			hello, err := h.Hello(ctx)
			if err != nil {
				return fmt.Errorf("lag secondaries: %w", err)
			}
			if w, _ := hello["isWritablePrimary"].(bool); !w {
				hosts = append(hosts, h)
			}
		}
	}
	var errs []error
	for _, h := range hosts {
		errs = append(errs, h.StopApplying(ctx, on))
	}
	return errors.Join(errs...)
}
