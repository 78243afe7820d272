package mongoemu

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/storage"
	"github.com/rsguard/rsguard/mongoemu/wire"
)

// runInitialSync is logical initial sync (spec §7.6): with the initial-sync flag set, drop all
// non-local data, clone every collection from a source, apply the source's oplog from where
// cloning began to where it ended, clear the flag, then RECOVERING → SECONDARY. A failed
// attempt retries with a new source up to numInitialSyncAttempts, then the process exits.
func (rc *replCoord) runInitialSync() {
	maxAttempts := int(rc.n.params.intValue("numInitialSyncAttempts"))
	rc.n.mu.Lock()
	p := &initialSyncProgress{start: time.Now(), maxAttempts: maxAttempts, databases: map[string]*dbProgress{}}
	rc.initialSync = p
	rc.n.mu.Unlock()
	for attempt := 1; ; attempt++ {
		select {
		case <-rc.stopCh:
			return
		default:
		}
		source := rc.initialSyncSource()
		if source == "" {
			rc.setSyncSource("", "Could not find member to sync from")
			rc.sleepOrChange(nil, time.Second)
			attempt--
			continue
		}
		rc.setSyncSource(source, "")
		started := time.Now()
		err := rc.initialSyncAttempt(source, p)
		rc.n.mu.Lock()
		p.attempts = append(p.attempts, attemptRecord{duration: time.Since(started), status: statusString(err), source: source})
		if err == nil {
			p.end = time.Now()
			rc.setFollowerLocked(stateRecovering)
			rc.setFollowerLocked(stateSecondary)
			rc.resetElectionTimerLocked()
			rc.n.mu.Unlock()
			rc.n.events.info("INITSYNC", 21192, "Initial sync done", "durationMillis", time.Since(p.start).Milliseconds())
			return
		}
		p.failed++
		rc.n.mu.Unlock()
		if errors.Is(err, errStopFetch) {
			return
		}
		rc.n.events.errorf("INITSYNC", 21200, "Initial sync attempt failed", "attempt", attempt, "error", err.Error())
		if attempt >= maxAttempts {
			rc.n.events.emit("F", "INITSYNC", 21202, "The maximum number of retries have been exhausted for initial sync", nil)
			go rc.n.Stop(fmt.Errorf("initial sync failed after %d attempts: %w", attempt, err))
			return
		}
		rc.sleepOrChange(nil, time.Second)
	}
}

func statusString(err error) string {
	if err == nil {
		return "OK"
	}
	return err.Error()
}

// initialSyncSource prefers the primary, else the freshest readable member (primaryPreferred).
func (rc *replCoord) initialSyncSource() string {
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if rc.primary >= 0 && rc.primary != rc.self && rc.members[rc.primary].up {
		return rc.cfg.members[rc.primary].host
	}
	best := -1
	for i, m := range rc.cfg.members {
		md := rc.members[i]
		if i == rc.self || m.arbiterOnly || !md.up || md.state != stateSecondary {
			continue
		}
		if best < 0 || rc.members[best].applied.less(md.applied) {
			best = i
		}
	}
	return memberName(rc.cfg, best)
}

func (rc *replCoord) initialSyncAttempt(source string, p *initialSyncProgress) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-rc.stopCh:
			cancel()
		case <-ctx.Done():
		}
	}()
	flag, _ := bson.Marshal(bson.D{{Key: "inProgress", Value: true}})
	if err := rc.n.store.PutMeta(metaInitialSync, flag); err != nil {
		return err
	}
	c, err := rc.dialInternal(ctx, source, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	// Cloned documents carry no history: no majority snapshot until the commit point passes
	// the end of the initial sync (set below once it is known).
	rc.versions.Reset(bson.Timestamp{T: math.MaxUint32, I: math.MaxUint32})
	if err := rc.dropUserData(); err != nil {
		return err
	}
	begin, err := remoteOplogEdge(ctx, c, -1)
	if err != nil {
		return fmt.Errorf("read source oplog start: %w", err)
	}
	rc.n.mu.Lock()
	p.oplogStart = begin
	rc.n.mu.Unlock()
	if err := rc.cloneAll(ctx, c, p); err != nil {
		return err
	}
	stop, err := remoteOplogEdge(ctx, c, -1)
	if err != nil {
		return err
	}
	rc.n.mu.Lock()
	p.oplogEnd = stop
	rc.n.mu.Unlock()
	if err := rc.applyOplogRange(ctx, c, begin, stop, p); err != nil {
		return err
	}
	rc.versions.Reset(stop.ts)
	return rc.n.store.DeleteMeta(metaInitialSync)
}

// dropUserData removes every non-local database (initial sync phase 1).
func (rc *replCoord) dropUserData() error {
	return rc.n.store.Update(func(tx *storage.Tx) error {
		dbs, err := tx.ListDatabases()
		if err != nil {
			return err
		}
		for _, db := range dbs {
			if db.Name == "local" {
				continue
			}
			if err := tx.DropDatabase(db.Name); err != nil {
				return err
			}
		}
		return nil
	})
}

// applyOplogRange fetches the source's entries in [begin, stop] and applies them, writing them
// into our oplog so that steady-state fetching continues from stop.
func (rc *replCoord) applyOplogRange(ctx context.Context, c *wire.Client, begin, stop opTime, p *initialSyncProgress) error {
	reply, err := c.Command(ctx, bson.D{{Key: "find", Value: "oplog.rs"},
		{Key: "filter", Value: bson.D{{Key: "ts", Value: bson.D{{Key: "$gte", Value: begin.ts}, {Key: "$lte", Value: stop.ts}}}}},
		{Key: "batchSize", Value: int32(5000)},
		{Key: "$readPreference", Value: bson.D{{Key: "mode", Value: "secondaryPreferred"}}}, {Key: "$db", Value: "local"}}, time.Minute)
	if err != nil {
		return fmt.Errorf("fetch oplog for initial sync: %w", err)
	}
	id, batch, err := cursorBatch(reply, "firstBatch")
	if err != nil {
		return err
	}
	if len(batch) == 0 || !sameOpTime(batch[0], begin) {
		return fmt.Errorf("sync source rolled back or truncated its oplog during initial sync")
	}
	for {
		if err := rc.applyBatch(batch); err != nil {
			return err
		}
		rc.n.mu.Lock()
		p.appliedOps += int64(len(batch))
		rc.n.mu.Unlock()
		if id == 0 {
			return nil
		}
		reply, err := c.Command(ctx, bson.D{{Key: "getMore", Value: id}, {Key: "collection", Value: "oplog.rs"},
			{Key: "batchSize", Value: int32(5000)}, {Key: "$db", Value: "local"}}, time.Minute)
		if err != nil {
			return err
		}
		if id, batch, err = cursorBatch(reply, "nextBatch"); err != nil {
			return err
		}
		if len(batch) == 0 && id == 0 {
			return nil
		}
	}
}

func sameOpTime(doc bson.Raw, ot opTime) bool {
	got, ok := opTimeFromDoc(doc)
	return ok && got == ot
}
