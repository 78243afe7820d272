package storage

import (
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func waitDone(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not finish", what)
		return nil
	}
}

func TestStallBlocksWritesNotReads(t *testing.T) {
	s := openTest(t, Options{NoSyncEachCommit: true})
	mustUpdate(t, s, func(tx *Tx) error { return tx.CreateCollection("db.c", CollOptions{}) })
	s.SetWriteBlocked(true)
	s.SetWriteBlocked(true) // idempotent
	if !s.WriteBlocked() {
		t.Fatal("WriteBlocked = false")
	}
	writes := make(chan error, 2)
	go func() {
		writes <- s.Update(func(tx *Tx) error { return tx.Insert("db.c", mustRaw(t, bson.D{{Key: "_id", Value: 1}})) })
	}()
	go func() {
		writes <- s.Batch(func(tx *Tx) error { return tx.Insert("db.c", mustRaw(t, bson.D{{Key: "_id", Value: 2}})) })
	}()
	// Reads go on while writers wait (a write holding bbolt's lock would not stop them either).
	for i := 0; i < 20; i++ {
		err := s.View(func(tx *Tx) error {
			n, err := tx.Count("db.c")
			if n != 0 {
				t.Errorf("a blocked write landed: count %d", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	select {
	case err := <-writes:
		t.Fatalf("write finished while blocked: %v", err)
	default:
	}
	if err := s.Sync(); err != nil {
		t.Errorf("Sync while blocked: %v", err)
	}
	s.SetWriteBlocked(false)
	for i := 0; i < 2; i++ {
		if err := waitDone(t, writes, "unblocked write"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStallCloseUnblocks(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.SetWriteBlocked(true)
	writes := make(chan error, 1)
	go func() { writes <- s.Update(func(*Tx) error { return nil }) }()
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	if err := waitDone(t, closed, "Close"); err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, writes, "blocked write"); !errors.Is(err, ErrClosed) {
		t.Errorf("blocked write = %v, want ErrClosed", err)
	}
}

func TestWriteDelay(t *testing.T) {
	s, err := Open(t.TempDir(), Options{NoSyncEachCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	const d = 30 * time.Millisecond
	s.SetWriteDelay(d)
	start := time.Now()
	mustUpdate(t, s, func(*Tx) error { return nil })
	if el := time.Since(start); el < d {
		t.Errorf("delayed write took %v < %v", el, d)
	}
	s.SetWriteDelay(time.Hour)
	writes := make(chan error, 1)
	go func() { writes <- s.Update(func(*Tx) error { return nil }) }()
	// Close cuts the delay short instead of waiting an hour.
	time.Sleep(10 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, writes, "delayed write"); !errors.Is(err, ErrClosed) {
		t.Errorf("delayed write = %v, want ErrClosed", err)
	}
}
