package storage

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Tx is one storage transaction, valid only inside the Update, Batch or View callback that
// received it. Documents it returns are copies and stay valid after the transaction ends.
type Tx struct {
	tx *bolt.Tx
	s  *Store
	// at, when set, makes Get, Scan and Count read that snapshot (versions.go).
	at *Snapshot
	// changes and lastTS feed the Store's Versions when the transaction's function succeeds.
	changes         []change
	firstTS, lastTS bson.Timestamp
}

// Writable reports whether the transaction may write (Update/Batch rather than View).
func (t *Tx) Writable() bool { return t.tx.Writable() }

// Top-level buckets of the data file.
var (
	bktCatalog = []byte("catalog") // ns -> catalog entry (BSON)
	bktStats   = []byte("stats")   // ns -> count, dataSize (2 x uint64 BE)
	bktData    = []byte("data")    // ns -> sub-bucket: key(_id) -> document
	bktOplog   = []byte("oplog")   // ts (uint64 BE) -> oplog entry
	bktMeta    = []byte("meta")    // replication metadata, key -> BSON
	bktSys     = []byte("sys")     // internal counters
)

var keyOplogStats = []byte("oplogStats") // in bktSys: entry count, total bytes

// formatVersion is stored in bktSys; bump it when the layout changes incompatibly.
const formatVersion = 1

func initBuckets(tx *bolt.Tx) error {
	for _, name := range [][]byte{bktCatalog, bktStats, bktData, bktOplog, bktMeta, bktSys} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	sys := tx.Bucket(bktSys)
	if v := sys.Get([]byte("format")); v != nil {
		if got := binary.BigEndian.Uint64(v); got != formatVersion {
			return fmt.Errorf("data file format %d, this build reads %d", got, formatVersion)
		}
		return nil
	}
	return sys.Put([]byte("format"), binary.BigEndian.AppendUint64(nil, formatVersion))
}

// counters is a pair of int64 counters stored as 16 bytes (documents or entries, bytes).
type counters struct{ n, bytes int64 }

func getCounters(b *bolt.Bucket, key []byte) counters {
	v := b.Get(key)
	if len(v) != 16 {
		return counters{}
	}
	return counters{
		n:     int64(binary.BigEndian.Uint64(v[:8])),
		bytes: int64(binary.BigEndian.Uint64(v[8:])),
	}
}

func putCounters(b *bolt.Bucket, key []byte, c counters) error {
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v[:8], uint64(c.n))
	binary.BigEndian.PutUint64(v[8:], uint64(c.bytes))
	if err := b.Put(key, v); err != nil {
		return fmt.Errorf("counters %s: %w", key, err)
	}
	return nil
}

// clone copies bytes out of bbolt's mmap so they outlive the transaction.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	out := make([]byte, len(b))
	copy(out, b)
	return out
}

// remember notes the value a document write is about to overwrite (nil: none), for Versions.
func (t *Tx) remember(ns string, key, before []byte) {
	if t.s.versions == nil || ns == OplogNS {
		return
	}
	t.changes = append(t.changes, change{ns: ns, key: clone(key), before: clone(before)})
}

// flushVersions hands the transaction's overwritten values to Versions, stamped with its last
// oplog entry's ts, before the commit makes the new values visible. Writes with no oplog entry
// (local database, standalone) are not versioned. Should the commit then fail, the values
// recorded equal the stored ones and do no harm.
func (t *Tx) flushVersions() {
	if len(t.changes) == 0 || t.lastTS.IsZero() || t.s.versions == nil {
		return
	}
	t.s.versions.record(t.firstTS, t.lastTS, t.changes)
	t.changes = nil
}
