package mongoemu

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// beginReadConcern parses, checks and waits for the command's readConcern before it runs, as
// waitForReadConcernImpl does (db/read_concern_mongod.cpp), and pins the majority-committed
// snapshot a majority or snapshot read reads from (r.snap; endReadConcern releases it).
func (n *Node) beginReadConcern(ctx context.Context, r *request) error {
	rc, err := parseReadConcern(r)
	if err != nil {
		return err
	}
	if err := checkReadConcernSupport(r.name, rc); err != nil {
		return err
	}
	r.readConcern = rc
	if r.name == "getMore" {
		return nil // a getMore reads as its cursor was opened
	}
	if n.repl == nil {
		return standaloneReadConcern(rc)
	}
	return n.repl.awaitReadConcern(ctx, r)
}

// endReadConcern runs after a successful command: a linearizable read confirms it is still
// primary with a majority-committed no-op write (waitForLinearizableReadConcernImpl).
func (n *Node) endReadConcern(ctx context.Context, r *request) error {
	r.snap.Release()
	if r.readConcern.level != rcLinearizable || n.repl == nil || r.name == "getMore" {
		return nil
	}
	return n.repl.confirmLinearizable(ctx)
}

// standaloneReadConcern: without replication linearizable and snapshot are refused, majority
// reads the local data, and cluster times cannot be waited for (read_concern_mongod.cpp,
// ReplicationCoordinatorImpl::waitUntilOpTimeForReadUntil).
func standaloneReadConcern(rc readConcern) error {
	switch {
	case rc.level == rcLinearizable:
		return mongoerr.New(mongoerr.NoReplicationEnabled, "node needs to be a replica set member to use read concern")
	case rc.level == rcSnapshot:
		return mongoerr.New(mongoerr.NoReplicationEnabled, "node needs to be a replica set member to use readConcern: snapshot")
	case rc.hasAfterClusterTime:
		return mongoerr.New(mongoerr.IllegalOperation, "Cannot specify afterClusterTime readConcern without replication enabled")
	case rc.hasAtClusterTime:
		return mongoerr.New(mongoerr.IllegalOperation, "Cannot specify atClusterTime readConcern without replication enabled")
	case rc.hasAfterOpTime:
		return mongoerr.New(mongoerr.NoReplicationEnabled, "node needs to be a replica set member to use read concern")
	}
	return nil
}

// awaitReadConcern is waitForReadConcernImpl on a replica-set member.
func (rc *replCoord) awaitReadConcern(ctx context.Context, r *request) error {
	c := r.readConcern
	lvl := c.effectiveLevel()
	if lvl == rcLinearizable {
		if c.hasAfterOpTime {
			return mongoerr.New(mongoerr.FailedToParse, "afterOpTime not compatible with linearizable read concern")
		}
		rc.n.mu.Lock()
		primary := rc.stateLocked() == statePrimary
		rc.n.mu.Unlock()
		if !primary {
			return mongoerr.New(mongoerr.NotWritablePrimary, "cannot satisfy linearizable read concern on non-primary node")
		}
	}
	if c.isEmpty() {
		return nil
	}
	rc.n.mu.Lock()
	initialized := rc.cfg != nil
	rc.n.mu.Unlock()
	if !initialized {
		// ReplicationCoordinatorImpl::waitUntilOpTimeForReadUntil before the config is installed.
		return mongoerr.New(mongoerr.NotYetInitialized, "Cannot use non-local read concern until replica set is finished initializing.")
	}
	if c.hasAtClusterTime {
		// mongod reads its storage history at any timestamp it still holds; Versions keeps only
		// what lies past the commit point, so reads at a given time are refused, not faked.
		return mongoerr.New(mongoerr.SnapshotUnavailable, "mongoemu does not emulate readConcern atClusterTime")
	}
	if c.hasAfterClusterTime {
		if err := rc.checkClusterTimeTarget(r, c.afterClusterTime); err != nil {
			return err
		}
	}
	majority := lvl == rcMajority
	if c.hasAfterClusterTime || c.hasAfterOpTime {
		target := c.afterClusterTime
		if c.hasAfterOpTime {
			target = c.afterOpTime.ts
		}
		if err := rc.waitForRead(ctx, target, majority); err != nil {
			return err
		}
	}
	switch lvl {
	case rcMajority:
		snap, err := rc.pinCommitted(ctx)
		if err != nil {
			return err
		}
		r.snap, r.opTS = snap, snap.TS
	case rcSnapshot:
		// Outside a transaction a snapshot read reads the current committed snapshot
		// (getCurrentCommittedSnapshotOpTime), SnapshotUnavailable when there is none.
		snap, ok := rc.versions.Pin()
		if !ok {
			return mongoerr.New(mongoerr.SnapshotUnavailable, "No committed OpTime for snapshot read")
		}
		r.snap, r.opTS = snap, snap.TS
	}
	return nil
}

// checkClusterTimeTarget refuses an afterClusterTime beyond the node's cluster time, which the
// request's own $clusterTime gossip advances first (VectorClock::gossipIn).
func (rc *replCoord) checkClusterTimeTarget(r *request, target bson.Timestamp) error {
	ct, ok := rc.clusterTime()
	if v, has := r.arg("$clusterTime"); has {
		if d, isDoc := v.DocumentOK(); isDoc {
			if t, i, isTS := d.Lookup("clusterTime").TimestampOK(); isTS && ok && compareTS(ct, bson.Timestamp{T: t, I: i}) < 0 {
				ct = bson.Timestamp{T: t, I: i}
			}
		}
	}
	if !ok {
		return mongoerr.New(mongoerr.NotPrimaryOrSecondary,
			"Current clusterTime is uninitialized, cannot service the requested clusterTime. Requested clusterTime: %s; current clusterTime: %s",
			fmtTS(target), fmtTS(ct))
	}
	if compareTS(ct, target) < 0 {
		return mongoerr.New(mongoerr.InvalidOptions,
			"readConcern afterClusterTime value must not be greater than the current clusterTime. Requested clusterTime: %s; current clusterTime: %s",
			fmtTS(target), fmtTS(ct))
	}
	return nil
}

func fmtTS(ts bson.Timestamp) string { return fmt.Sprintf("{ ts: Timestamp(%d, %d) }", ts.T, ts.I) }

// waitForRead is _waitUntilOpTime: until the committed snapshot (majority) or lastApplied
// (local) reaches target, or the operation's deadline / interruption.
func (rc *replCoord) waitForRead(ctx context.Context, target bson.Timestamp, majority bool) error {
	for {
		var changed <-chan struct{}
		var current bson.Timestamp
		if majority {
			current, _, changed = rc.versions.Available()
		} else {
			rc.n.mu.Lock()
			current, changed = rc.lastApplied.ts, rc.stateChanged
			rc.n.mu.Unlock()
		}
		if compareTS(current, target) >= 0 {
			return nil
		}
		select {
		case <-changed:
		case <-rc.stopCh:
			return mongoerr.New(mongoerr.ShutdownInProgress, "Shutdown in progress")
		case <-ctx.Done():
			what := "optime"
			if majority {
				what = "snapshot not less than"
			}
			return fmt.Errorf("Error waiting for %s %s, current relevant optime is %s: %w", what, fmtTS(target), fmtTS(current), ctx.Err())
		}
	}
}

// pinCommitted waits until a committed snapshot exists (ReadConcernMajorityNotAvailableYet
// loops on waitUntilSnapshotCommitted) and pins it.
func (rc *replCoord) pinCommitted(ctx context.Context) (*storage.Snapshot, error) {
	for {
		if snap, ok := rc.versions.Pin(); ok {
			return snap, nil
		}
		_, _, changed := rc.versions.Available()
		if snap, ok := rc.versions.Pin(); ok {
			return snap, nil
		}
		select {
		case <-changed:
		case <-rc.stopCh:
			return nil, mongoerr.New(mongoerr.ShutdownInProgress, "Shutdown in progress")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// publishSnapshotLocked gives Versions the newest snapshot a majority read may see: the commit
// point, but never past what this node has applied (_updateCommittedSnapshot).
func (rc *replCoord) publishSnapshotLocked() {
	if rc.versions == nil {
		return
	}
	ts := rc.commitPoint.ts
	if compareTS(rc.lastApplied.ts, ts) < 0 {
		ts = rc.lastApplied.ts
	}
	rc.versions.SetCommitted(ts)
}

// confirmLinearizable writes the {msg: "linearizable read"} no-op and waits, with no timeout
// but the command's maxTimeMS, for it to be majority committed
// (waitForLinearizableReadConcernImpl, readConcernTimeout 0).
func (rc *replCoord) confirmLinearizable(ctx context.Context) error {
	res, err := rc.runPrimaryWrite(ctx, nil, func(_ *storage.Tx, ol *opLog) error {
		ol.Noop(bson.D{{Key: "msg", Value: "linearizable read"}})
		return nil
	})
	if err != nil {
		if isCode(err, mongoerr.NotWritablePrimary) {
			return mongoerr.New(mongoerr.NotWritablePrimary, "No longer primary when waiting for linearizable read concern")
		}
		return err
	}
	wce, err := rc.awaitReplication(ctx, res.opTime, writeConcern{w: -1, wMode: "majority", wSet: true})
	if err != nil {
		return err
	}
	if wce == nil {
		return nil
	}
	code, _ := wceCode(wce)
	if code == mongoerr.WriteConcernFailed {
		return mongoerr.New(mongoerr.LinearizableReadConcernError, "Failed to confirm that read was linearizable.")
	}
	msg := "Primary stepped down while waiting for replication"
	for _, e := range wce {
		if s, ok := e.Value.(string); ok && e.Key == "errmsg" {
			msg = s
		}
	}
	return mongoerr.New(code, "%s", msg)
}
