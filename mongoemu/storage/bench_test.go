package storage

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

var durabilityModes = []struct {
	name string
	opts Options
}{
	{"nosync", Options{NoSyncEachCommit: true}},
	{"sync", Options{}},
}

// BenchmarkInsert: one writer, one Update per insert (document + oplog entry).
func BenchmarkInsert(b *testing.B) {
	for _, m := range durabilityModes {
		b.Run(m.name, func(b *testing.B) {
			s := openTest(b, m.opts)
			mustUpdate(b, s, func(tx *Tx) error { return tx.CreateCollection("db.c", CollOptions{}) })
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := s.Update(func(tx *Tx) error { return insertWithOplog(tx, fmt.Sprint(i)) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInsertParallel: 8 writers, each insert through Batch (group commit).
func BenchmarkInsertParallel(b *testing.B) {
	const writers = 8
	for _, m := range durabilityModes {
		b.Run(m.name, func(b *testing.B) {
			s := openTest(b, m.opts)
			mustUpdate(b, s, func(tx *Tx) error { return tx.CreateCollection("db.c", CollOptions{}) })
			b.ReportAllocs()
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						if err := s.Batch(func(tx *Tx) error { return insertWithOplog(tx, fmt.Sprint(i)) }); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

// BenchmarkGetByID: point reads by _id in a 100k-document collection.
func BenchmarkGetByID(b *testing.B) {
	const docs = 100_000
	s := openTest(b, Options{NoSyncEachCommit: true})
	mustUpdate(b, s, func(tx *Tx) error {
		if err := tx.CreateCollection("db.c", CollOptions{}); err != nil {
			return err
		}
		for i := 0; i < docs; i++ {
			d := mustRaw(b, bson.D{{Key: "_id", Value: int32(i)}, {Key: "x", Value: "some payload"}})
			if err := tx.Insert("db.c", d); err != nil {
				return err
			}
		}
		return nil
	})
	ids := make([]bson.RawValue, 1024)
	for i := range ids {
		ids[i] = val(b, int64(i*97%docs))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		err := s.View(func(tx *Tx) error {
			_, ok, err := tx.Get("db.c", ids[i%len(ids)])
			if !ok {
				b.Fatal("not found")
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
