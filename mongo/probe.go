package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// WriteProbe upserts this sidecar's probe document into the probe namespace
// (Options.ProbeNamespace, default rsguard.probe) with w:"majority". The
// wtimeout sits inside ctx's deadline (DefaultProbeTimeout without one) so that a primary which
// applies the write but cannot commit it answers WriteConcernFailed (64) before the client gives
// up: "up but not committing" and "no answer" are different verdicts (failover-notes "Sick
// primary"). The latency is returned on failure too: how long the primary took to fail matters.
func (n *DriverNode) WriteProbe(ctx context.Context, id string) (time.Duration, error) {
	return n.probe(ctx, "write probe", func(ms int64) bson.D {
		return probeCommand(n.probeColl, id, time.Now(), n.seq.Add(1), ms)
	})
}

// probe runs one probe write built by cmd with the time left in ctx (DefaultProbeTimeout
// without a deadline) as its server-side limit, and returns how long it took, failed or not.
func (n *DriverNode) probe(ctx context.Context, what string, cmd func(limitMS int64) bson.D) (time.Duration, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultProbeTimeout)
		defer cancel()
	}
	ms, _ := maxTimeMS(ctx)
	c := cmd(ms)
	start := time.Now()
	_, err := n.run(ctx, n.probeDB, what, c)
	return time.Since(start), err
}

// probeCommand is one upsert by _id: the collection holds one small document per sidecar.
func probeCommand(coll, id string, at time.Time, seq, wtimeoutMS int64) bson.D {
	doc := bson.D{
		{Key: "_id", Value: id},
		{Key: "at", Value: bson.NewDateTimeFromTime(at)},
		{Key: "seq", Value: seq},
	}
	return bson.D{
		{Key: "update", Value: coll},
		{Key: "updates", Value: bson.A{bson.D{
			{Key: "q", Value: bson.D{{Key: "_id", Value: id}}},
			{Key: "u", Value: doc},
			{Key: "upsert", Value: true},
		}}},
		{Key: "ordered", Value: true},
		{Key: "writeConcern", Value: bson.D{
			{Key: "w", Value: "majority"},
			{Key: "wtimeout", Value: wtimeoutMS},
		}},
	}
}
