package mongoemu

import (
	"encoding/hex"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// retryTable is mongoemu's config.transactions: for each logical session, the last retryable
// write's txnNumber and how many statements it executed. Oplog entries of retryable writes carry
// lsid/txnNumber/stmtId (spec §7.1), so secondaries rebuild the table as they apply and a new
// primary answers a driver's retry after failover with the original outcome instead of running
// the write twice (retryable-writes spec).
type retryTable struct {
	mu sync.Mutex
	m  map[string]retryRecord
}

type retryRecord struct {
	txn   int64
	stmts int32
}

func newRetryTable() *retryTable { return &retryTable{m: map[string]retryRecord{}} }

// sessionKey is the lsid's id bytes.
func sessionKey(lsid bson.RawValue) (string, bool) {
	d, ok := lsid.DocumentOK()
	if !ok {
		return "", false
	}
	_, data, ok := d.Lookup("id").BinaryOK()
	if !ok {
		return "", false
	}
	return hex.EncodeToString(data), true
}

func (t *retryTable) record(key string, txn int64, stmts int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rec := t.m[key]
	if txn > rec.txn {
		t.m[key] = retryRecord{txn: txn, stmts: stmts}
	} else if txn == rec.txn {
		rec.stmts += stmts
		t.m[key] = rec
	}
}

func (t *retryTable) lookup(key string) (retryRecord, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rec, ok := t.m[key]
	return rec, ok
}

// noteEntries records the retryable-write entries of an applied or committed batch.
func (t *retryTable) noteEntries(entries []bson.Raw) {
	for _, e := range entries {
		if op, _ := e.Lookup("op").StringValueOK(); op != "i" && op != "u" && op != "d" {
			continue
		}
		key, ok := sessionKey(e.Lookup("lsid"))
		if !ok {
			continue
		}
		if txn, ok := numberAsInt64(e.Lookup("txnNumber")); ok {
			t.record(key, txn, 1)
		}
	}
}

// rebuild scans the oplog at startup (spec §7.8: config.transactions survives restarts).
func (t *retryTable) rebuild(st *storage.Store) error {
	return st.View(func(tx *storage.Tx) error {
		return tx.OplogRange(bson.Timestamp{}, func(_ bson.Timestamp, e bson.Raw) (bool, error) {
			t.noteEntries([]bson.Raw{e})
			return true, nil
		})
	})
}

// retriedWriteReply answers a retryable write whose txnNumber already executed on this
// session: the original outcome, not a second execution. It returns nil when the write must run.
func (rc *replCoord) retriedWriteReply(r *request) (bson.D, error) {
	if r == nil || !r.isRetryableWrite() || r.name == "findAndModify" || r.name == "findandmodify" {
		return nil, nil
	}
	lsid, _ := r.arg("lsid")
	key, ok := sessionKey(lsid)
	if !ok {
		return nil, nil
	}
	txn, _ := numberAsInt64(r.cmd.Lookup("txnNumber"))
	rec, ok := rc.retry.lookup(key)
	switch {
	case !ok || txn > rec.txn:
		return nil, nil
	case txn < rec.txn:
		return nil, mongoerr.New(225, "Retryable write with txnNumber %d is prohibited on session %s because a newer retryable write with txnNumber %d has already started on this session.", txn, key, rec.txn)
	}
	d := bson.D{{Key: "n", Value: rec.stmts}}
	if r.name == "update" {
		d = append(d, bson.E{Key: "nModified", Value: rec.stmts})
	}
	return d, nil
}

// retryFields are appended to each document-write oplog entry of a retryable write (not to
// the implicit collection creation that may precede it).
func retryFields(r *request, entry bson.D, stmt int) bson.D {
	if r == nil || !r.isRetryableWrite() || len(entry) == 0 {
		return nil
	}
	if op, _ := entry[0].Value.(string); op != "i" && op != "u" && op != "d" {
		return nil
	}
	lsid, _ := r.arg("lsid")
	txn, _ := r.arg("txnNumber")
	return bson.D{{Key: "lsid", Value: lsid}, {Key: "txnNumber", Value: txn}, {Key: "stmtId", Value: int32(stmt)}}
}
