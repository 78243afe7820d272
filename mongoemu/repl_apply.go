package mongoemu

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/query"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// applyBatch applies fetched oplog entries and appends them to our oplog in one transaction
// (mongod's applier batches, spec §7.3), then advances lastApplied. Application is idempotent:
// inserts upsert, deletes of missing documents and creates of existing collections are no-ops,
// so re-applying after a rollback or during initial sync converges.
func (rc *replCoord) applyBatch(entries []bson.Raw) error {
	// The applier writes under the global lock in IX (so the RSTL in IX): a stepup waits for the
	// batch, and an fsyncLock stops replication on a secondary, as on mongod.
	held, err := rc.n.locks.lockGlobal(context.Background(), modeIX)
	if err != nil {
		return fmt.Errorf("apply oplog batch: %w", err)
	}
	defer held.release()
	rc.oplogMu.Lock()
	defer rc.oplogMu.Unlock()
	// A batch fetched while we were a secondary may arrive after we took office: a primary past
	// catch-up writes its own oplog and must not apply another member's entries.
	rc.n.mu.Lock()
	leader, mine := rc.leader, rc.lastApplied
	rc.n.mu.Unlock()
	if leader != leaderNone && leader != leaderCatchUp {
		return errStopFetch
	}
	for len(entries) > 0 {
		if ot, ok := opTimeFromDoc(entries[0]); ok && mine.less(ot) {
			break
		}
		entries = entries[1:] // already applied (e.g. a batch re-read after a source change)
	}
	if len(entries) == 0 {
		return nil
	}
	var last opTime
	var wall time.Time
	err = rc.n.store.Update(func(tx *storage.Tx) error {
		for _, e := range entries {
			if err := applyOplogEntry(tx, e); err != nil {
				return err
			}
			ot, ok := opTimeFromDoc(e)
			if !ok {
				return fmt.Errorf("oplog entry without ts/t: %v", e)
			}
			last = ot
			wall, _ = e.Lookup("wall").TimeOK()
		}
		return tx.AppendOplog(entries...)
	})
	if err != nil {
		return fmt.Errorf("apply oplog batch: %w", err)
	}
	rc.retry.noteEntries(entries)
	rc.n.mu.Lock()
	rc.advanceAppliedLocked(last, wall)
	if rc.catchUpSt != nil {
		rc.catchUpSt.numOps += int64(len(entries)) // incrementNumCatchUpOpsIfCatchingUp
	}
	rc.maybeLeaveRecoveringLocked()
	rc.n.mu.Unlock()
	return nil
}

// maybeLeaveRecoveringLocked: after a rollback (or startup) a member in RECOVERING becomes
// SECONDARY once it has applied up to minValid (spec §3.1, §7.7).
func (rc *replCoord) maybeLeaveRecoveringLocked() {
	if rc.follower == stateRecovering && !rc.lastApplied.less(rc.minValid) {
		rc.setFollowerLocked(stateSecondary)
	}
}

// applyOplogEntry applies one entry (spec §7.1 entry shape) to the data.
func applyOplogEntry(tx *storage.Tx, e bson.Raw) error {
	op, _ := e.Lookup("op").StringValueOK()
	ns, _ := e.Lookup("ns").StringValueOK()
	o, _ := e.Lookup("o").DocumentOK()
	switch op {
	case "n":
		return nil
	case "i":
		if err := ensureCollection(tx, ns, e); err != nil {
			return err
		}
		return upsertDoc(tx, ns, o)
	case "u":
		o2, _ := e.Lookup("o2").DocumentOK()
		id := o2.Lookup("_id")
		if err := ensureCollection(tx, ns, e); err != nil {
			return err
		}
		return applyOplogUpdate(tx, ns, id, o)
	case "d":
		if _, err := tx.Delete(ns, o.Lookup("_id")); err != nil && !isNamespaceNotFound(err) {
			return err
		}
		return nil
	case "c":
		return applyCommand(tx, strings.TrimSuffix(ns, ".$cmd"), e, o)
	}
	return fmt.Errorf("unknown oplog op %q", op)
}

func ensureCollection(tx *storage.Tx, ns string, e bson.Raw) error {
	if _, ok, err := tx.CollectionUUID(ns); err != nil || ok {
		return err
	}
	var opts storage.CollOptions
	if _, data, ok := e.Lookup("ui").BinaryOK(); ok && len(data) == 16 {
		copy(opts.UUID[:], data)
	}
	err := tx.CreateCollection(ns, opts)
	if isCode(err, mongoerr.NamespaceExists) {
		return nil
	}
	return err
}

func upsertDoc(tx *storage.Tx, ns string, doc bson.Raw) error {
	id := doc.Lookup("_id")
	_, exists, err := tx.Get(ns, id)
	if err != nil {
		return err
	}
	if exists {
		return tx.Replace(ns, id, doc)
	}
	return tx.Insert(ns, doc)
}

// applyOplogUpdate handles a replacement post-image (what mongoemu logs) and, for entries from other
// sources, a $-operator update document ($v:2 diffs are not supported and fail loudly).
func applyOplogUpdate(tx *storage.Tx, ns string, id bson.RawValue, o bson.Raw) error {
	first, err := o.IndexErr(0)
	if err != nil || !strings.HasPrefix(first.Key(), "$") {
		return upsertDoc(tx, ns, o)
	}
	if first.Key() == "$v" {
		return fmt.Errorf("oplog update in $v:2 diff format is not supported by mongoemu")
	}
	cur, ok, err := tx.Get(ns, id)
	if err != nil {
		return err
	}
	if !ok {
		cur, _ = bson.Marshal(bson.D{{Key: "_id", Value: id}})
	}
	u, err := query.ParseUpdate(o)
	if err != nil {
		return err
	}
	out, _, err := u.Apply(cur, time.Now())
	if err != nil {
		return err
	}
	return upsertDoc(tx, ns, out)
}

// applyCommand applies a replicated DDL entry through the same code the DDL commands use.
func applyCommand(tx *storage.Tx, db string, e, o bson.Raw) error {
	var ui [16]byte
	if _, data, ok := e.Lookup("ui").BinaryOK(); ok && len(data) == 16 {
		copy(ui[:], data)
	}
	return applyCommandEntry(tx, db, ui, o)
}

func isCode(err error, code mongoerr.Code) bool {
	var me *mongoerr.Error
	return errors.As(err, &me) && me.Code == code
}
