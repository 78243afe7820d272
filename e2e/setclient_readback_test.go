package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/mongo"
)

// TestSetClientReadBackWaitsForW1Writes: the drills' read-back (SetClient.IDs, majority read
// concern) must not count a w:1 insert as lost just because it had not replicated yet. With both
// secondaries' appliers stopped, a w:1 insert is acknowledged but not majority-committed: the
// read-back must wait (its barrier write cannot commit), not answer without it; once the
// secondaries apply again, it must find it.
func TestSetClientReadBackWaitsForW1Writes(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: fastSettings})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := c.WaitPrimary(t, 30*time.Second)
	sc, err := mongo.DialSet(mongo.SetOptions{URI: c.URI(), Database: "drill", Collection: "readback"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sc.Close(context.Background()) }()
	if err := sc.InsertMajority(ctx, 1); err != nil {
		t.Fatalf("first insert: %v", err)
	}
	secondaries := c.Others(p)
	for _, h := range secondaries {
		if err := h.StopApplying(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := sc.InsertW1(ctx, 2); err != nil {
		t.Fatalf("w:1 insert with the secondaries not applying: %v", err)
	}
	short, cancelShort := context.WithTimeout(ctx, 1500*time.Millisecond)
	ids, err := sc.IDs(short)
	cancelShort()
	if err == nil {
		t.Fatalf("the read-back answered %v while the w:1 insert could not be majority-committed: it would be counted lost", ids)
	}
	for _, h := range secondaries {
		if err := h.StopApplying(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	harness.WaitFor(t, 30*time.Second, "the read-back after the secondaries applied again", func(ctx context.Context) error {
		ids, err = sc.IDs(ctx)
		return err
	})
	if !ids[1] || !ids[2] {
		t.Fatalf("read back %v, want ids 1 and 2", ids)
	}
}
