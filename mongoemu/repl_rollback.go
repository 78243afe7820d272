package mongoemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/storage"
	"github.com/rsguard/rsguard/mongoemu/wire"
)

// errUnrecoverableRollback makes the node shut down, like mongod's fassert (spec §7.7 limits).
var errUnrecoverableRollback = errors.New("unrecoverable rollback")

// runRollback rolls our diverged oplog tail back to the common point with source (spec §7.7):
// ROLLBACK (user connections closed), find the common point, bump the RBID, save the rolled-back
// documents to dbpath/rollback/<collectionUUID>/removed.<time>.bson, refetch the affected
// documents from the source, truncate the oplog, then RECOVERING until minValid → SECONDARY.
// mongoemu uses the refetch algorithm (mongod's rollbackViaRefetch) since it keeps no storage
// snapshots; the observable behaviour is the same.
func (rc *replCoord) runRollback(source string) {
	// Rollback takes the RSTL in X without a deadline (rollback_impl.cpp _transitionToRollback).
	rstl := rc.n.locks.rstl.enqueue(modeX, true)
	sctx, cancel := rc.stopContext()
	werr := rstl.wait(sctx, time.Time{})
	cancel()
	if werr != nil {
		return
	}
	defer rstl.unlock()
	rc.n.mu.Lock()
	if rc.leader != leaderNone {
		rc.n.mu.Unlock()
		return
	}
	rc.setFollowerLocked(stateRollback)
	rc.n.mu.Unlock()
	// Entering ROLLBACK closes client connections (kActionRollbackOrRemoved).
	rc.n.conns.closeMatching(func(c *conn) bool { return !c.internal.Load() })
	rc.n.events.info("ROLLBACK", 21593, "Transition to ROLLBACK", "syncSource", source)
	err := rc.rollbackFrom(source)
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if err != nil {
		if errors.Is(err, errUnrecoverableRollback) {
			rc.n.events.emit("F", "ROLLBACK", 21612, "Unable to complete rollback. A full resync may be needed", []any{"error", err.Error()})
			go rc.n.Stop(mongoerr.New(mongoerr.UnrecoverableRollbackError, "%v", err))
			return
		}
		rc.n.events.warn("ROLLBACK", 21606, "Rollback failed; will retry", "error", err.Error())
	}
	rc.setFollowerLocked(stateRecovering)
	rc.maybeLeaveRecoveringLocked()
}

type rolledBackOp struct {
	ts bson.Timestamp
	e  bson.Raw
}

func (rc *replCoord) rollbackFrom(source string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := rc.dialInternal(ctx, source, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	common, commonWall, ours, err := rc.findCommonPoint(ctx, c)
	if err != nil {
		return err
	}
	rc.n.mu.Lock()
	lastWall := rc.lastAppliedWall
	rc.n.mu.Unlock()
	limit := time.Duration(rc.n.params.intValue("rollbackTimeLimitSecs")) * time.Second
	if !commonWall.IsZero() && lastWall.Sub(commonWall) > limit {
		return fmt.Errorf("%w: not willing to roll back more than %d seconds of data. Have: %d seconds",
			errUnrecoverableRollback, int64(limit/time.Second), int64(lastWall.Sub(commonWall)/time.Second))
	}
	rc.n.events.info("ROLLBACK", 21607, "Rollback common point", "commonPoint", fmtOpTime(common), "opsToRollBack", len(ours))
	rc.n.mu.Lock()
	rc.rbid++
	rc.n.mu.Unlock()
	if err := rc.persistRBID(); err != nil {
		return err
	}
	affected, err := rc.saveRollbackFiles(ours)
	if err != nil {
		return err
	}
	refetched := map[string]bson.Raw{}
	for key, a := range affected {
		doc, err := fetchDocByID(ctx, c, a.ns, a.id)
		if err != nil {
			return fmt.Errorf("refetch %s: %w", a.ns, err)
		}
		refetched[key] = doc
	}
	minValid, err := remoteOplogEdge(ctx, c, -1)
	if err != nil {
		return err
	}
	// The refetched documents are the source's newest, not its committed ones: no majority
	// snapshot until the commit point passes minValid (_dropAllSnapshots on rollback).
	rc.versions.Reset(minValid.ts)
	err = rc.n.store.Update(func(tx *storage.Tx) error {
		for key, a := range affected {
			doc := refetched[key]
			if doc == nil {
				if _, err := tx.Delete(a.ns, a.id); err != nil && !isNamespaceNotFound(err) {
					return err
				}
				continue
			}
			if err := ensureCollection(tx, a.ns, bson.Raw(nil)); err != nil {
				return err
			}
			if err := upsertDoc(tx, a.ns, doc); err != nil {
				return err
			}
		}
		if _, err := tx.TruncateOplogAfter(common.ts); err != nil {
			return err
		}
		mv, _ := bson.Marshal(minValid.doc())
		return tx.PutMeta(metaMinValid, mv)
	})
	if err != nil {
		return fmt.Errorf("apply rollback: %w", err)
	}
	rc.n.mu.Lock()
	rc.lastApplied, rc.lastDurable, rc.lastAppliedWall = common, common, commonWall
	rc.minValid = minValid
	if rc.self >= 0 {
		rc.members[rc.self].applied, rc.members[rc.self].durable = common, common
	}
	rc.n.mu.Unlock()
	rc.n.events.info("ROLLBACK", 21612, "Rollback summary", "commonPoint", fmtOpTime(common),
		"rollbackId", rc.rbid, "opsRolledBack", len(ours), "documentsRefetched", len(affected), "minValid", fmtOpTime(minValid))
	return nil
}

// findCommonPoint walks our oplog and the source's backwards from our last entry until both
// have the same entry (spec §7.7 step 2). It returns our entries after that point.
func (rc *replCoord) findCommonPoint(ctx context.Context, c *wire.Client) (opTime, time.Time, []rolledBackOp, error) {
	rc.n.mu.Lock()
	from := rc.lastApplied.ts
	rc.n.mu.Unlock()
	var ourEntries []rolledBackOp
	err := rc.n.store.View(func(tx *storage.Tx) error {
		return tx.OplogReverse(from, func(ts bson.Timestamp, e bson.Raw) (bool, error) {
			ourEntries = append(ourEntries, rolledBackOp{ts: ts, e: append(bson.Raw(nil), e...)})
			return len(ourEntries) < 100000, nil
		})
	})
	if err != nil {
		return opTime{}, time.Time{}, nil, err
	}
	reply, err := c.Command(ctx, bson.D{{Key: "find", Value: "oplog.rs"},
		{Key: "filter", Value: bson.D{{Key: "ts", Value: bson.D{{Key: "$lte", Value: from}}}}},
		{Key: "sort", Value: bson.D{{Key: "$natural", Value: int32(-1)}}}, {Key: "batchSize", Value: int32(2000)},
		{Key: "$readPreference", Value: bson.D{{Key: "mode", Value: "secondaryPreferred"}}}, {Key: "$db", Value: "local"}}, 30*time.Second)
	if err != nil {
		return opTime{}, time.Time{}, nil, err
	}
	cursorID, theirs, err := cursorBatch(reply, "firstBatch")
	if err != nil {
		return opTime{}, time.Time{}, nil, err
	}
	i := 0
	for len(ourEntries) > i {
		if len(theirs) == 0 {
			if cursorID == 0 {
				return opTime{}, time.Time{}, nil, fmt.Errorf("%w: no common point found with the sync source", errUnrecoverableRollback)
			}
			reply, err := c.Command(ctx, bson.D{{Key: "getMore", Value: cursorID}, {Key: "collection", Value: "oplog.rs"},
				{Key: "batchSize", Value: int32(2000)}, {Key: "$db", Value: "local"}}, 30*time.Second)
			if err != nil {
				return opTime{}, time.Time{}, nil, err
			}
			if cursorID, theirs, err = cursorBatch(reply, "nextBatch"); err != nil {
				return opTime{}, time.Time{}, nil, err
			}
			continue
		}
		ours := ourEntries[i]
		mine, _ := opTimeFromDoc(ours.e)
		other, _ := opTimeFromDoc(theirs[0])
		switch compareTS(mine.ts, other.ts) {
		case 1:
			i++
		case -1:
			theirs = theirs[1:]
		default:
			if mine.term == other.term {
				wall, _ := ours.e.Lookup("wall").TimeOK()
				return mine, wall, ourEntries[:i], nil
			}
			i++
			theirs = theirs[1:]
		}
	}
	return opTime{}, time.Time{}, nil, fmt.Errorf("%w: no common point found in our oplog", errUnrecoverableRollback)
}

type affectedDoc struct {
	ns string
	id bson.RawValue
}

// saveRollbackFiles writes our current version of every document a rolled-back insert or
// update touched, one BSON file per collection UUID (spec §7.7 step 5), and returns every
// affected document so it can be refetched.
func (rc *replCoord) saveRollbackFiles(ops []rolledBackOp) (map[string]affectedDoc, error) {
	affected := map[string]affectedDoc{}
	files := map[string][]byte{}
	stamp := time.Now().UTC().Format("2006-01-02T15-04-05") + ".0"
	err := rc.n.store.View(func(tx *storage.Tx) error {
		for _, op := range ops {
			kind, _ := op.e.Lookup("op").StringValueOK()
			ns, _ := op.e.Lookup("ns").StringValueOK()
			var id bson.RawValue
			switch kind {
			case "i", "d":
				id = op.e.Lookup("o", "_id")
			case "u":
				id = op.e.Lookup("o2", "_id")
			default:
				continue
			}
			key, err := storage.KeyOf(id)
			if err != nil {
				return err
			}
			k := ns + "\x00" + string(key)
			if _, seen := affected[k]; seen {
				continue
			}
			affected[k] = affectedDoc{ns: ns, id: id}
			if rc.n.params.boolValue("createRollbackDataFiles") && kind != "d" {
				doc, ok, err := tx.Get(ns, id)
				if err != nil && !isNamespaceNotFound(err) {
					return err
				}
				if ok {
					uuid, _, _ := tx.CollectionUUID(ns)
					dir := uuidString(uuid)
					files[dir] = append(files[dir], doc...)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for dir, data := range files {
		path := filepath.Join(rc.n.opts.DBPath, "rollback", dir)
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, fmt.Errorf("create rollback directory: %w", err)
		}
		name := filepath.Join(path, "removed."+stamp+".bson")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return nil, fmt.Errorf("write rollback file: %w", err)
		}
		rc.n.events.info("ROLLBACK", 21603, "Preparing to write deleted documents to a rollback file", "file", name)
	}
	return affected, nil
}

func uuidString(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// fetchDocByID reads one document from the source; nil when it does not exist there.
func fetchDocByID(ctx context.Context, c *wire.Client, ns string, id bson.RawValue) (bson.Raw, error) {
	db, coll := splitNamespace(ns)
	reply, err := c.Command(ctx, bson.D{{Key: "find", Value: coll}, {Key: "filter", Value: bson.D{{Key: "_id", Value: id}}},
		{Key: "limit", Value: int64(1)}, {Key: "singleBatch", Value: true},
		{Key: "$readPreference", Value: bson.D{{Key: "mode", Value: "secondaryPreferred"}}}, {Key: "$db", Value: db}}, 30*time.Second)
	if err != nil {
		return nil, err
	}
	_, docs, err := cursorBatch(reply, "firstBatch")
	if err != nil || len(docs) == 0 {
		return nil, err
	}
	return docs[0], nil
}

func splitNamespace(ns string) (string, string) {
	for i := 0; i < len(ns); i++ {
		if ns[i] == '.' {
			return ns[:i], ns[i+1:]
		}
	}
	return ns, ""
}
