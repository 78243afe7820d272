package mongoemu

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/storage"
)

// opLog collects the oplog entries of one write transaction (spec §7.1): one entry per document
// write, in order. In a standalone nothing is logged. Entries get their optime in runWrite.
type opLog struct {
	entries []bson.D
	wall    time.Time
}

// Insert logs {op: "i", ns, ui, o: doc}.
func (l *opLog) Insert(ns string, ui [16]byte, doc bson.Raw) {
	l.add("i", ns, ui, doc, nil)
}

// Update logs an update as a full replacement ({op: "u", o: newDoc, o2: {_id}}), a form mongod
// also writes and that is idempotent to re-apply.
func (l *opLog) Update(ns string, ui [16]byte, id bson.RawValue, newDoc bson.Raw) {
	l.add("u", ns, ui, newDoc, bson.D{{Key: "_id", Value: id}})
}

// Delete logs {op: "d", o: {_id}}.
func (l *opLog) Delete(ns string, ui [16]byte, id bson.RawValue) {
	l.add("d", ns, ui, bson.D{{Key: "_id", Value: id}}, nil)
}

// Command logs {op: "c", ns: "db.$cmd", o: cmd} (create, drop, dropDatabase).
func (l *opLog) Command(db string, ui *[16]byte, cmd bson.D) {
	var u [16]byte
	if ui != nil {
		u = *ui
	}
	l.add("c", db+".$cmd", u, cmd, nil)
}

// Noop logs {op: "n", ns: "", o: {msg}}.
func (l *opLog) Noop(o bson.D) { l.add("n", "", [16]byte{}, o, nil) }

func (l *opLog) add(op, ns string, ui [16]byte, o any, o2 any) {
	e := bson.D{{Key: "op", Value: op}, {Key: "ns", Value: ns}}
	if ui != ([16]byte{}) {
		e = append(e, bson.E{Key: "ui", Value: bson.Binary{Subtype: 4, Data: ui[:]}})
	}
	e = append(e, bson.E{Key: "o", Value: o})
	if o2 != nil {
		e = append(e, bson.E{Key: "o2", Value: o2})
	}
	l.entries = append(l.entries, e)
}

// writeResult is what a write transaction produced.
type writeResult struct {
	opTime opTime // optime of the last oplog entry (zero for a standalone or an empty write)
	// retried is set when a retryable write had already executed (repl_retry.go): the command
	// must reply with these fields instead of its own results.
	retried bson.D
}

// runWrite executes fn in one storage transaction together with its oplog entries. In
// replica-set mode the node must be a writable primary when the transaction starts and stays so
// until it commits (writes hold the global lock and the RSTL in IX, which a state transition takes
// in X: rstl.go), which is how a stepdown cleanly interrupts writes (spec §5.5).
func (n *Node) runWrite(ctx context.Context, r *request, fn func(tx *storage.Tx, ol *opLog) error) (writeResult, error) {
	if err := ctx.Err(); err != nil {
		return writeResult{}, err
	}
	if n.repl != nil {
		return n.repl.runPrimaryWrite(ctx, r, fn)
	}
	held, err := n.locks.lockGlobal(ctx, modeIX)
	if err != nil {
		return writeResult{}, err
	}
	defer held.release()
	ol := &opLog{wall: time.Now()}
	err = n.store.Update(func(tx *storage.Tx) error { return fn(tx, ol) })
	if err != nil {
		return writeResult{}, fmt.Errorf("write: %w", err)
	}
	return writeResult{}, nil
}

// runRead executes fn in a read transaction.
func (n *Node) runRead(fn func(tx *storage.Tx) error) error {
	return n.store.View(fn)
}

// runReadAt executes fn in a read transaction at snap, the committed snapshot a majority or
// snapshot read pinned (readconcern_wait.go); nil reads the newest local data.
func (n *Node) runReadAt(snap *storage.Snapshot, fn func(tx *storage.Tx) error) error {
	return n.store.ViewAt(snap, fn)
}
