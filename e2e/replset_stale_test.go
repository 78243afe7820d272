package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/e2e/harness"
)

// TestReplSetTooStaleThenResync: with a 1 MB oplog, a secondary that was down while more than the
// oplog holds was written comes back too stale: RECOVERING with tooStale: true, and it stays
// there. The documented remedy (stop, wipe the dbpath, start) makes it initial-sync: STARTUP2 with
// visible initialSyncStatus progress, then SECONDARY with all the data (spec §7.5, §7.6).
func TestReplSetTooStaleThenResync(t *testing.T) {
	const docs, pad = 400, 8 << 10 // ~3.2 MB through a 1 MB oplog
	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: fastSettings, OplogSizeMB: 1,
		ExtraParams: map[string]string{
			// A signalled secondary quiesces this long (spec §6.9; the default is 15s).
			"shutdownTimeoutMillisForSignaledShutdown": "1000",
			// Emulator only (the harness drops it for a real mongod): a slow enough initial sync to
			// watch its progress. The harness has no per-start parameters, so every member gets
			// it; only the resynced member ever copies data.
			"mongoemuInitialSyncDocsPerSecond": "200",
		}})
	defer c.Timeline.Log(t)
	ctx := context.Background()
	p := c.WaitPrimary(t, 30*time.Second)
	victim := c.Others(p)[0]
	if err := victim.Stop(); err != nil {
		t.Fatal(err)
	}

	coll := c.MajorityClient(t).Database("rs").Collection("big")
	filler := strings.Repeat("x", pad)
	var want []string
	for i := 0; i < docs; i += 20 {
		var batch []any
		for j := i; j < i+20; j++ {
			id := fmt.Sprintf("big-%03d", j)
			batch = append(batch, bson.D{{Key: "_id", Value: id}, {Key: "pad", Value: filler}})
			want = append(want, id)
		}
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		_, err := coll.InsertMany(wctx, batch)
		cancel()
		if err != nil {
			t.Fatalf("w:majority insert of documents %d..%d: %v", i, i+19, err)
		}
	}
	c.Timeline.Mark("%d documents of %d KiB written w:majority while %s was down", docs, pad>>10, victim)

	// Too stale: RECOVERING with tooStale, and it stays there.
	if err := victim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	tooStale := func(ctx context.Context) error {
		st, err := c.Status(ctx, victim)
		if err != nil {
			return err
		}
		state, _ := asInt64(st["myState"])
		if harness.StateName(int(state)) != "RECOVERING" || st["tooStale"] != true {
			return fmt.Errorf("%s is %s with tooStale=%v", victim, harness.StateName(int(state)), st["tooStale"])
		}
		return nil
	}
	harness.WaitFor(t, 30*time.Second, victim.String()+" RECOVERING with tooStale", tooStale)
	c.Timeline.Mark("%s: RECOVERING, tooStale", victim)
	holdFor(t, 5*time.Second, victim.String()+" staying RECOVERING/tooStale", tooStale)
	c.Timeline.Mark("%s: still RECOVERING, tooStale", victim)

	// Resync: stop, wipe, start empty.
	if err := victim.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := victim.WipeDBPath(); err != nil {
		t.Fatal(err)
	}
	if err := victim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var copied []int64 // documentsCopied samples seen in STARTUP2
	sawStartup2 := false
	harness.WaitFor(t, 60*time.Second, victim.String()+" SECONDARY after initial sync", func(ctx context.Context) error {
		raw, err := victim.Command(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}})
		if err != nil {
			return err
		}
		state, _ := raw.Lookup("myState").AsInt64OK()
		name := harness.StateName(int(state))
		if name == "STARTUP2" {
			if !sawStartup2 {
				c.Timeline.Mark("%s: STARTUP2", victim)
			}
			sawStartup2 = true
			if v, err := raw.LookupErr("initialSyncStatus", "databases", "rs", "rs.big", "documentsCopied"); err == nil {
				if n, ok := v.AsInt64OK(); ok && (len(copied) == 0 || copied[len(copied)-1] != n) {
					copied = append(copied, n)
				}
			}
		}
		if name != "SECONDARY" {
			return fmt.Errorf("%s is %s", victim, name)
		}
		return nil
	})
	c.Timeline.Mark("%s: SECONDARY after initial sync", victim)
	t.Logf("initialSyncStatus documentsCopied samples: %v", copied)
	if !sawStartup2 {
		t.Errorf("%s never reported STARTUP2", victim)
	}
	if victim.Emulated {
		// Only the emulator's copy rate is throttled enough to be sure of seeing progress.
		var between []int64
		for _, n := range copied {
			if n > 0 && n < docs {
				between = append(between, n)
			}
		}
		if len(between) < 2 || !slices.IsSorted(copied) {
			t.Errorf("documentsCopied did not visibly increase during STARTUP2: samples %v", copied)
		}
	}
	waitDocsOn(t, []*harness.Host{victim}, "rs", "big", want, nil, 10*time.Second)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := directColl(t, victim, "rs", "big", writeconcern.W1()).CountDocuments(cctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if n != docs {
		t.Errorf("resynced %s counts %d documents, want %d", victim, n, docs)
	}
	c.WaitHealthy(t, 30*time.Second)
}
