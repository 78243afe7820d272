package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// JournalProbeSuffix is appended to the sidecar id for the w:1 j:true probe's document, so the
// two probes never contend for one document.
const JournalProbeSuffix = ".j"

// JournalProbe upserts this sidecar's second probe document into rsguard.probe with w:1 j:true:
// acknowledged once the primary has the write in its own journal, whatever the secondaries do
// (spec §7.4: w:1 is satisfied by the primary alone, j:true waits for its own journal). It
// stalls on the primary's own disk or write path (a stalled disk, fsyncLock holding the global
// lock, commands/fsync.cpp) and stays fast while the secondaries lag, which is what tells a
// sick primary from a replication stall (election/sick.go, election/lagging.go). maxTimeMS sits
// inside ctx's deadline so that a write waiting for a lock comes back as MaxTimeMSExpired (50)
// rather than a cut connection.
func (n *DriverNode) JournalProbe(ctx context.Context, id string) (time.Duration, error) {
	return n.probe(ctx, "journal probe", func(ms int64) bson.D {
		return journalProbeCommand(n.probeColl, id, time.Now(), n.seq.Add(1), ms)
	})
}

// journalProbeCommand is probeCommand on the id's journal document with {w: 1, j: true} and
// maxTimeMS instead of the majority write concern.
func journalProbeCommand(coll, id string, at time.Time, seq, maxTimeMS int64) bson.D {
	cmd := probeCommand(coll, id+JournalProbeSuffix, at, seq, 0)
	out := make(bson.D, 0, len(cmd)+1)
	for _, e := range cmd {
		if e.Key == "writeConcern" {
			e.Value = bson.D{{Key: "w", Value: int32(1)}, {Key: "j", Value: true}}
		}
		out = append(out, e)
	}
	return append(out, bson.E{Key: "maxTimeMS", Value: maxTimeMS})
}
