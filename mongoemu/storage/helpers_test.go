package storage

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustRaw(t testing.TB, d any) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

// val returns v as a bson.RawValue.
func val(t testing.TB, v any) bson.RawValue {
	t.Helper()
	return mustRaw(t, bson.D{{Key: "v", Value: v}}).Lookup("v")
}

func mustUpdate(t testing.TB, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.Update(fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func oplogEntry(t testing.TB, ts bson.Timestamp, pad int) bson.Raw {
	t.Helper()
	return mustRaw(t, bson.D{
		{Key: "ts", Value: ts}, {Key: "t", Value: int64(1)}, {Key: "v", Value: int64(2)},
		{Key: "op", Value: "n"}, {Key: "ns", Value: ""},
		{Key: "o", Value: bson.D{{Key: "msg", Value: string(make([]byte, pad))}}},
	})
}
