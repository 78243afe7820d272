package storage

import (
	"encoding/binary"
	"fmt"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	bolt "go.etcd.io/bbolt"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The oplog (spec §7.1) is a bucket keyed by ts as uint64 big-endian (t<<32 | i), so byte order
// is ts order. A counter in bktSys tracks (entries, bytes): capping is exact and costs one counter
// write per append plus one delete per entry ever evicted, whatever the oplog's size.

func tsKey(ts bson.Timestamp) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(ts.T)<<32|uint64(ts.I))
}

func keyTS(k []byte) bson.Timestamp {
	u := binary.BigEndian.Uint64(k)
	return bson.Timestamp{T: uint32(u >> 32), I: uint32(u)}
}

// EntryTS returns the ts field of an oplog entry.
func EntryTS(e bson.Raw) (bson.Timestamp, error) {
	v, err := e.LookupErr("ts")
	if err != nil {
		return bson.Timestamp{}, mongoerr.New(mongoerr.BadValue, "oplog entry has no ts field")
	}
	t, i, ok := v.TimestampOK()
	if !ok {
		return bson.Timestamp{}, mongoerr.New(mongoerr.BadValue, "oplog entry ts is %s, not a timestamp", v.Type)
	}
	return bson.Timestamp{T: t, I: i}, nil
}

// AppendOplog adds entries, whose ts must be strictly increasing and above the last stored one,
// then evicts the oldest entries while the oplog exceeds its cap (the newest entry always stays).
// The first append records local.oplog.rs in the catalog (capped) if nobody created it.
func (t *Tx) AppendOplog(entries ...bson.Raw) error {
	if len(entries) == 0 {
		return nil
	}
	if t.tx.Bucket(bktCatalog).Get([]byte(OplogNS)) == nil {
		if err := t.CreateCollection(OplogNS, CollOptions{Capped: true}); err != nil {
			return err
		}
	}
	b := t.tx.Bucket(bktOplog)
	sys := t.tx.Bucket(bktSys)
	st := getCounters(sys, keyOplogStats)
	last, _ := b.Cursor().Last()
	for _, e := range entries {
		ts, err := EntryTS(e)
		if err != nil {
			return err
		}
		k := tsKey(ts)
		if last != nil && string(k) <= string(last) {
			return mongoerr.New(mongoerr.BadValue,
				"oplog entry ts %v is not after the last entry's %v", ts, keyTS(last))
		}
		if err := b.Put(k, clone(e)); err != nil {
			return fmt.Errorf("append oplog: %w", err)
		}
		last = k
		if t.firstTS.IsZero() {
			t.firstTS = ts
		}
		t.lastTS = ts
		st.n++
		st.bytes += int64(len(e))
	}
	if st.bytes > t.s.oplogCap {
		c := b.Cursor()
		for k, v := c.First(); k != nil && st.n > 1 && st.bytes > t.s.oplogCap; k, v = c.First() {
			st.n--
			st.bytes -= int64(len(v))
			if err := c.Delete(); err != nil {
				return fmt.Errorf("cap oplog: %w", err)
			}
		}
	}
	return putCounters(sys, keyOplogStats, st)
}

// OplogRange calls fn for every entry with ts >= from, in ts order, until fn returns false.
func (t *Tx) OplogRange(from bson.Timestamp, fn func(ts bson.Timestamp, e bson.Raw) (bool, error)) error {
	c := t.tx.Bucket(bktOplog).Cursor()
	for k, v := c.Seek(tsKey(from)); k != nil; k, v = c.Next() {
		more, err := fn(keyTS(k), bson.Raw(clone(v)))
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// OplogReverse calls fn for every entry with ts <= from, newest first, until fn returns false
// (rollback walks back this way to the common point, spec §7.7).
func (t *Tx) OplogReverse(from bson.Timestamp, fn func(ts bson.Timestamp, e bson.Raw) (bool, error)) error {
	c := t.tx.Bucket(bktOplog).Cursor()
	fk := tsKey(from)
	k, v := c.Seek(fk)
	if k == nil || string(k) > string(fk) {
		k, v = c.Prev()
	}
	for ; k != nil; k, v = c.Prev() {
		more, err := fn(keyTS(k), bson.Raw(clone(v)))
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// OplogGet returns the entry at exactly ts.
func (t *Tx) OplogGet(ts bson.Timestamp) (bson.Raw, bool, error) {
	v := t.tx.Bucket(bktOplog).Get(tsKey(ts))
	if v == nil {
		return nil, false, nil
	}
	return bson.Raw(clone(v)), true, nil
}

// OplogFirst returns the oldest entry.
func (t *Tx) OplogFirst() (bson.Raw, bool, error) {
	_, v := t.tx.Bucket(bktOplog).Cursor().First()
	return oplogResult(v)
}

// OplogLast returns the newest entry.
func (t *Tx) OplogLast() (bson.Raw, bool, error) {
	_, v := t.tx.Bucket(bktOplog).Cursor().Last()
	return oplogResult(v)
}

func oplogResult(v []byte) (bson.Raw, bool, error) {
	if v == nil {
		return nil, false, nil
	}
	return bson.Raw(clone(v)), true, nil
}

// OplogStats returns the number of entries and their total size in bytes.
func (t *Tx) OplogStats() (entries, bytes int64) {
	c := getCounters(t.tx.Bucket(bktSys), keyOplogStats)
	return c.n, c.bytes
}

// OplogCap is the oplog's size cap in bytes (Options.OplogSizeMB).
func (t *Tx) OplogCap() int64 { return t.s.oplogCap }

// TruncateOplogAfter removes every entry with ts > after (rollback, spec §7.7) and reports how
// many it removed.
func (t *Tx) TruncateOplogAfter(after bson.Timestamp) (int, error) {
	b := t.tx.Bucket(bktOplog)
	sys := t.tx.Bucket(bktSys)
	st := getCounters(sys, keyOplogStats)
	c := b.Cursor()
	ak := tsKey(after)
	removed := 0
	for k, v := c.Last(); k != nil && string(k) > string(ak); k, v = c.Last() {
		st.n--
		st.bytes -= int64(len(v))
		if err := c.Delete(); err != nil {
			return removed, fmt.Errorf("truncate oplog: %w", err)
		}
		removed++
	}
	if removed == 0 {
		return 0, nil
	}
	return removed, putCounters(sys, keyOplogStats, st)
}

// clearOplog empties the oplog (dropping local.oplog.rs).
func (t *Tx) clearOplog() error {
	if err := t.tx.DeleteBucket(bktOplog); err != nil && err != bolt.ErrBucketNotFound {
		return fmt.Errorf("clear oplog: %w", err)
	}
	if _, err := t.tx.CreateBucket(bktOplog); err != nil {
		return fmt.Errorf("clear oplog: %w", err)
	}
	return putCounters(t.tx.Bucket(bktSys), keyOplogStats, counters{})
}
