package storage

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// readAt returns the "v" of every document of ns at the current snapshot, by _id, and what Get
// says for each id in ids.
func readAt(t *testing.T, s *Store, v *Versions, ns string, ids ...int32) (map[int32]int32, map[int32]int32) {
	t.Helper()
	snap, ok := v.Pin()
	if !ok {
		t.Fatal("no snapshot available")
	}
	defer snap.Release()
	scan, got := map[int32]int32{}, map[int32]int32{}
	err := s.ViewAt(snap, func(tx *Tx) error {
		if err := tx.Scan(ns, func(d bson.Raw) (bool, error) {
			scan[d.Lookup("_id").Int32()] = d.Lookup("v").Int32()
			return true, nil
		}); err != nil {
			return err
		}
		n, err := tx.Count(ns)
		if err != nil {
			return err
		}
		if int(n) != len(scan) {
			t.Errorf("Count at snapshot = %d, scan saw %d", n, len(scan))
		}
		for _, id := range ids {
			d, ok, err := tx.Get(ns, val(t, id))
			if err != nil {
				return err
			}
			if ok {
				got[id] = d.Lookup("v").Int32()
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ViewAt: %v", err)
	}
	return scan, got
}

func TestVersionsReadTheCommittedSnapshot(t *testing.T) {
	s := openTest(t, Options{})
	v := NewVersions()
	s.SetVersions(v)
	const ns = "db.c"
	doc := func(id, x int32) bson.Raw { return mustRaw(t, bson.D{{Key: "_id", Value: id}, {Key: "v", Value: x}}) }
	ts := func(i uint32) bson.Timestamp { return bson.Timestamp{T: 100, I: i} }
	write := func(i uint32, fn func(tx *Tx) error) {
		mustUpdate(t, s, func(tx *Tx) error {
			if err := fn(tx); err != nil {
				return err
			}
			return tx.AppendOplog(oplogEntry(t, ts(i), 0))
		})
	}
	mustUpdate(t, s, func(tx *Tx) error { return tx.CreateCollection(ns, CollOptions{}) })
	if _, ok := v.Pin(); ok {
		t.Fatal("a snapshot is available before anything was committed")
	}
	write(1, func(tx *Tx) error { return tx.Insert(ns, doc(1, 10)) })
	write(2, func(tx *Tx) error { return tx.Insert(ns, doc(2, 20)) })
	v.SetCommitted(ts(2))
	// Uncommitted: 1 changed, 2 deleted, 3 inserted.
	write(3, func(tx *Tx) error { return tx.Replace(ns, val(t, int32(1)), doc(1, 11)) })
	write(4, func(tx *Tx) error {
		_, err := tx.Delete(ns, val(t, int32(2)))
		return err
	})
	write(5, func(tx *Tx) error { return tx.Insert(ns, doc(3, 30)) })
	write(6, func(tx *Tx) error { return tx.Replace(ns, val(t, int32(1)), doc(1, 12)) })

	scan, got := readAt(t, s, v, ns, 1, 2, 3)
	want := map[int32]int32{1: 10, 2: 20}
	if !equalMaps(scan, want) || !equalMaps(got, want) {
		t.Fatalf("at ts 2: scan %v, get %v; want %v", scan, got, want)
	}
	v.SetCommitted(ts(4))
	scan, got = readAt(t, s, v, ns, 1, 2, 3)
	want = map[int32]int32{1: 11}
	if !equalMaps(scan, want) || !equalMaps(got, want) {
		t.Fatalf("at ts 4: scan %v, get %v; want %v", scan, got, want)
	}
	// A pinned snapshot keeps its history while the commit point moves on.
	old, _ := v.Pin()
	v.SetCommitted(ts(6))
	var seen int32
	if err := s.ViewAt(old, func(tx *Tx) error {
		d, _, err := tx.Get(ns, val(t, int32(1)))
		seen = d.Lookup("v").Int32()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	old.Release()
	if seen != 11 {
		t.Fatalf("pinned snapshot at ts 4 read v=%d, want 11", seen)
	}
	scan, _ = readAt(t, s, v, ns)
	if want := (map[int32]int32{1: 12, 3: 30}); !equalMaps(scan, want) {
		t.Fatalf("at ts 6: %v, want %v", scan, want)
	}
	v.mu.Lock()
	left := len(v.docs)
	v.mu.Unlock()
	if left != 0 {
		t.Fatalf("history not pruned once everything committed: %d namespaces left", left)
	}
	// After Reset no snapshot exists until the commit point reaches the floor.
	v.Reset(ts(9))
	if _, ok := v.Pin(); ok {
		t.Fatal("snapshot available below the floor")
	}
	v.SetCommitted(ts(9))
	if _, ok := v.Pin(); !ok {
		t.Fatal("no snapshot at the floor")
	}
}

func equalMaps(a, b map[int32]int32) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestVersionsNoSnapshotInsideATransaction: a transaction of several oplog entries stamps its
// writes with its last entry, so a commit point inside it publishes the snapshot just before it.
func TestVersionsNoSnapshotInsideATransaction(t *testing.T) {
	s := openTest(t, Options{})
	v := NewVersions()
	s.SetVersions(v)
	const ns = "db.c"
	ts := func(i uint32) bson.Timestamp { return bson.Timestamp{T: 100, I: i} }
	mustUpdate(t, s, func(tx *Tx) error { return tx.CreateCollection(ns, CollOptions{}) })
	mustUpdate(t, s, func(tx *Tx) error {
		if err := tx.Insert(ns, mustRaw(t, bson.D{{Key: "_id", Value: int32(1)}, {Key: "v", Value: int32(1)}})); err != nil {
			return err
		}
		return tx.AppendOplog(oplogEntry(t, ts(1), 0))
	})
	v.SetCommitted(ts(1))
	mustUpdate(t, s, func(tx *Tx) error {
		for i := int32(2); i <= 4; i++ {
			if err := tx.Insert(ns, mustRaw(t, bson.D{{Key: "_id", Value: i}, {Key: "v", Value: i}})); err != nil {
				return err
			}
		}
		return tx.AppendOplog(oplogEntry(t, ts(2), 0), oplogEntry(t, ts(3), 0), oplogEntry(t, ts(4), 0))
	})
	v.SetCommitted(ts(3))
	if at, _, _ := v.Available(); at != ts(1) {
		t.Fatalf("commit point inside a transaction [2, 4]: snapshot at %v, want %v", at, ts(1))
	}
	if scan, _ := readAt(t, s, v, ns); len(scan) != 1 {
		t.Fatalf("snapshot inside a transaction sees %v, want only _id 1", scan)
	}
	v.SetCommitted(ts(4))
	if scan, _ := readAt(t, s, v, ns); len(scan) != 4 {
		t.Fatalf("snapshot after the transaction sees %v, want 4 documents", scan)
	}
}
