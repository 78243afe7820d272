package storage

import (
	"testing"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func firstLastTS(t *testing.T, s *Store) (first, last bson.Timestamp) {
	t.Helper()
	err := s.View(func(tx *Tx) error {
		f, ok, err := tx.OplogFirst()
		if err != nil || !ok {
			t.Fatalf("OplogFirst: %v %v", ok, err)
		}
		l, ok, err := tx.OplogLast()
		if err != nil || !ok {
			t.Fatalf("OplogLast: %v %v", ok, err)
		}
		first, _ = EntryTS(f)
		last, _ = EntryTS(l)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return first, last
}

func TestOplogCapping(t *testing.T) {
	s := openTest(t, Options{OplogSizeMB: 1, NoSyncEachCommit: true})
	const perTx, txs, pad = 100, 50, 1000 // ~5 MB of ~1.1 KB entries into a 1 MB cap
	var written int64
	for j := 0; j < txs; j++ {
		mustUpdate(t, s, func(tx *Tx) error {
			for i := 0; i < perTx; i++ {
				e := oplogEntry(t, bson.Timestamp{T: uint32(100 + j), I: uint32(i + 1)}, pad)
				written += int64(len(e))
				if err := tx.AppendOplog(e); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if written < 5<<20 {
		t.Fatalf("wrote only %d bytes", written)
	}
	first, last := firstLastTS(t, s)
	if want := (bson.Timestamp{T: 100 + txs - 1, I: perTx}); last != want {
		t.Errorf("newest entry %v, want %v", last, want)
	}
	if first.T < 100+txs*4/5-1 {
		t.Errorf("oldest entry %v: too old for a 1 MB cap", first)
	}
	_ = s.View(func(tx *Tx) error {
		n, size := tx.OplogStats()
		if size > 1<<20 || size < 1<<20-2*pad {
			t.Errorf("oplog size %d, cap %d", size, 1<<20)
		}
		var sn, ssize int64
		_ = tx.Scan(OplogNS, func(d bson.Raw) (bool, error) { sn++; ssize += int64(len(d)); return true, nil })
		if sn != n || ssize != size {
			t.Errorf("counters (%d, %d) disagree with scan (%d, %d)", n, size, sn, ssize)
		}
		cs, _ := tx.ListCollections("local")
		if len(cs) != 1 || cs[0].Name != "oplog.rs" || !cs[0].Options.Capped {
			t.Errorf("local collections %+v", cs)
		}
		return nil
	})
}

func TestOplogOrderAndTruncate(t *testing.T) {
	s := openTest(t, Options{})
	mustUpdate(t, s, func(tx *Tx) error {
		for i := uint32(1); i <= 10; i++ {
			if err := tx.AppendOplog(oplogEntry(t, bson.Timestamp{T: 5, I: i}, 10)); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(func(tx *Tx) error { return tx.AppendOplog(oplogEntry(t, bson.Timestamp{T: 5, I: 10}, 0)) })
	wantCode(t, err, mongoerr.BadValue)
	err = s.Update(func(tx *Tx) error { return tx.AppendOplog(mustRaw(t, bson.D{{Key: "op", Value: "n"}})) })
	wantCode(t, err, mongoerr.BadValue)

	var seen []uint32
	_ = s.View(func(tx *Tx) error {
		return tx.OplogRange(bson.Timestamp{T: 5, I: 8}, func(ts bson.Timestamp, _ bson.Raw) (bool, error) {
			seen = append(seen, ts.I)
			return true, nil
		})
	})
	if len(seen) != 3 || seen[0] != 8 {
		t.Errorf("OplogRange from 5:8 = %v", seen)
	}
	seen = nil
	_ = s.View(func(tx *Tx) error {
		return tx.OplogReverse(bson.Timestamp{T: 5, I: 4}, func(ts bson.Timestamp, _ bson.Raw) (bool, error) {
			seen = append(seen, ts.I)
			return len(seen) < 2, nil
		})
	})
	if len(seen) != 2 || seen[0] != 4 || seen[1] != 3 {
		t.Errorf("OplogReverse from 5:4 = %v", seen)
	}

	var removed int
	mustUpdate(t, s, func(tx *Tx) (err error) {
		removed, err = tx.TruncateOplogAfter(bson.Timestamp{T: 5, I: 6})
		return err
	})
	if removed != 4 {
		t.Errorf("removed %d, want 4", removed)
	}
	if _, last := firstLastTS(t, s); last != (bson.Timestamp{T: 5, I: 6}) {
		t.Errorf("last after truncate %v", last)
	}
	// The truncated range can be written again (the new branch after a rollback).
	mustUpdate(t, s, func(tx *Tx) error { return tx.AppendOplog(oplogEntry(t, bson.Timestamp{T: 6, I: 1}, 0)) })
	_ = s.View(func(tx *Tx) error {
		if n, _ := tx.OplogStats(); n != 7 {
			t.Errorf("entries %d, want 7", n)
		}
		if _, ok, _ := tx.OplogGet(bson.Timestamp{T: 5, I: 7}); ok {
			t.Error("5:7 survived truncation")
		}
		return nil
	})
}

func TestMetaRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	vote := mustRaw(t, bson.D{{Key: "term", Value: int64(7)}, {Key: "candidateIndex", Value: int32(2)}})
	if err := s.PutMeta(MetaLastVote, vote); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta(MetaInitialSync, mustRaw(t, bson.D{{Key: "x", Value: true}})); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMeta(MetaInitialSync); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, ok, err := s.GetMeta(MetaLastVote)
	if err != nil || !ok || string(got) != string(vote) {
		t.Errorf("GetMeta = %v %v %v", got, ok, err)
	}
	if _, ok, _ := s.GetMeta(MetaInitialSync); ok {
		t.Error("deleted meta key survived")
	}
}
