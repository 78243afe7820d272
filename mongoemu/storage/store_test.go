package storage

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestCloseUnderLoad: Close with writers, readers, Sync callers and the background syncer all
// running never deadlocks, and every later operation fails with ErrClosed.
func TestCloseUnderLoad(t *testing.T) {
	s, err := Open(t.TempDir(), Options{NoSyncEachCommit: true, JournalCommitInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, s, func(tx *Tx) error { return tx.CreateCollection("db.c", CollOptions{}) })
	s.SetWriteDelay(100 * time.Microsecond)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				var err error
				switch g % 3 {
				case 0:
					err = s.Update(func(tx *Tx) error { return insertWithOplog(tx, fmt.Sprintf("u%d-%d", g, i)) })
				case 1:
					err = s.Batch(func(tx *Tx) error { return insertWithOplog(tx, fmt.Sprintf("b%d-%d", g, i)) })
				default:
					if err = s.Sync(); err == nil {
						err = s.View(func(tx *Tx) error { _, err := tx.Count("db.c"); return err })
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	done := make(chan error, 2)
	go func() { done <- s.Close() }()
	go func() { done <- s.Close() }()
	for i := 0; i < 2; i++ {
		if err := waitDone(t, done, "Close"); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("operation during Close: %v", err)
		}
	}
}
