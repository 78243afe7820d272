package storage

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestBatchFailureIsolated: in a group commit, a member that fails (duplicate key) or panics
// gets its own error and the others still commit.
func TestBatchFailureIsolated(t *testing.T) {
	s := openTest(t, Options{NoSyncEachCommit: true})
	mustUpdate(t, s, func(tx *Tx) error {
		if err := tx.CreateCollection("db.c", CollOptions{}); err != nil {
			return err
		}
		return tx.Insert("db.c", mustRaw(t, bson.D{{Key: "_id", Value: "dup"}}))
	})
	const rounds, writers = 50, 8
	for r := 0; r < rounds; r++ {
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[w] = s.Batch(func(tx *Tx) error {
					switch w {
					case 0:
						return tx.Insert("db.c", mustRaw(t, bson.D{{Key: "_id", Value: "dup"}}))
					case 1:
						panic("boom")
					}
					return insertWithOplog(tx, fmt.Sprintf("r%d-w%d", r, w))
				})
			}()
		}
		wg.Wait()
		wantCode(t, errs[0], mongoerr.DuplicateKey)
		if errs[1] == nil || !strings.Contains(errs[1].Error(), "boom") {
			t.Fatalf("panicking member: %v", errs[1])
		}
		for w := 2; w < writers; w++ {
			if errs[w] != nil {
				t.Fatalf("round %d writer %d: %v", r, w, errs[w])
			}
		}
	}
	_ = s.View(func(tx *Tx) error {
		n, _ := tx.Count("db.c")
		entries, _ := tx.OplogStats()
		if want := int64(rounds*(writers-2) + 1); n != want || entries != want-1 {
			t.Errorf("count %d, oplog %d; want %d, %d", n, entries, want, want-1)
		}
		return nil
	})
}
