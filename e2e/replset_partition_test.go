package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/e2e/harness"
)

// partitionSettings shorten the election timeout so the partition drill stays fast; the
// heartbeat timeout stays at its default (the primary's liveness check uses the election
// timeout, spec §5.1).
var partitionSettings = bson.D{
	{Key: "electionTimeoutMillis", Value: 2000},
	{Key: "heartbeatIntervalMillis", Value: 500},
}

// TestReplSetPartitionedPrimaryRollsBack: the primary is isolated from both secondaries. It keeps
// taking w:1 writes until it notices it cannot see a majority and steps down; the majority side
// elects a new primary that takes w:majority writes throughout. After the heal the old primary
// rolls back: its w:1 writes leave the collection and land in dbpath/rollback/<uuid>/removed.*.bson,
// and no acknowledged w:majority write is lost on any member (spec §5.1, §7.7).
func TestReplSetPartitionedPrimaryRollsBack(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: partitionSettings})
	defer c.Timeline.Log(t)
	fw, err := harness.NewFirewall(t)
	if err != nil {
		t.Fatal(err)
	}
	fw.Timeline = c.Timeline
	ctx := context.Background()
	const db, collName = "rs", "partition"

	p := c.WaitPrimary(t, 30*time.Second)
	secs := c.Others(p)
	majority := c.MajorityClient(t).Database(db).Collection(collName)

	// Acknowledged majority writes, from before the cut to after the heal.
	var mu sync.Mutex
	var acked []string
	insertMajority := func(ctx context.Context, id string) error {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := majority.InsertOne(wctx, bson.D{{Key: "_id", Value: id}, {Key: "w", Value: "majority"}}); err != nil {
			return err
		}
		mu.Lock()
		acked = append(acked, id)
		mu.Unlock()
		return nil
	}
	for i := range 10 {
		if err := insertMajority(ctx, fmt.Sprintf("maj-pre-%02d", i)); err != nil {
			t.Fatalf("w:majority insert before the cut: %v", err)
		}
	}
	uuid, err := collectionUUID(ctx, p, db, collName)
	if err != nil {
		t.Fatal(err)
	}
	rbidBefore, err := rbid(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	// The w:1 connection to the old primary is open (and known to be a primary) before the cut,
	// so the first write right after it goes out at once.
	oldW1 := directColl(t, p, db, collName, writeconcern.W1())
	if err := oldW1.Database().Client().Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}

	// A background writer sends w:majority writes through the replica-set client during the
	// whole partition: they can only be acknowledged by a primary that reaches a majority.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bgErrs int
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond) // load pacing, not a wait
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if err := insertMajority(ctx, fmt.Sprintf("maj-bg-%04d", i)); err != nil {
				bgErrs++
			}
		}
	})
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	cut := time.Now()
	c.Timeline.Zero("partition: isolating primary %s from %s and %s", p, secs[0], secs[1])
	fw.Isolate(p, secs...)

	// w:1 writes straight to the old primary, starting immediately after the cut, until it
	// refuses them because it stepped down.
	var w1OK, w1Failed []string
	n := 0
	err = harness.Poll(ctx, 15*time.Second, func(ctx context.Context) error {
		n++
		id := fmt.Sprintf("w1-%03d", n)
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := oldW1.InsertOne(wctx, bson.D{{Key: "_id", Value: id}, {Key: "w", Value: 1}})
		cancel()
		if err == nil {
			w1OK = append(w1OK, id)
			return fmt.Errorf("%s still takes w:1 writes", p)
		}
		w1Failed = append(w1Failed, id) // outcome unknown: maybe applied, never acknowledged
		c.Timeline.Mark("w:1 insert %s on %s: %v (code %d)", id, p, err, codeOf(err))
		if codeOf(err) == 10107 || codeOf(err) == 11602 || codeOf(err) == 189 {
			return nil
		}
		return fmt.Errorf("w:1 insert %s on %s: %w", id, p, err)
	})
	if err != nil {
		t.Fatalf("the isolated primary never refused w:1 writes: %v", err)
	}
	c.Timeline.Mark("isolated %s refused w:1 writes after %d acknowledged (%s)", p, len(w1OK), w1Failed[len(w1Failed)-1])
	if len(w1OK) == 0 {
		t.Fatalf("no w:1 write succeeded on the isolated primary %s (failed: %v)", p, w1Failed)
	}
	stepdownBound := 3 * 2000 * time.Millisecond // electionTimeout + a bit (liveness check period, load)
	c.WaitState(t, p, "SECONDARY", stepdownBound-time.Since(cut))
	t.Logf("isolated primary %s is SECONDARY %.1fs after the cut, having acknowledged %d w:1 writes",
		p, time.Since(cut).Seconds(), len(w1OK))

	np := c.WaitPrimary(t, 15*time.Second, p)
	c.Timeline.Mark("majority side elected %s", np)
	for i := range 10 {
		if err := insertMajority(ctx, fmt.Sprintf("maj-new-%02d", i)); err != nil {
			t.Fatalf("w:majority insert on the majority side: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	mu.Lock()
	t.Logf("%d w:majority writes acknowledged, %d background attempts failed during the partition", len(acked), bgErrs)
	mu.Unlock()

	healed := time.Now()
	fw.HealAll()
	c.WaitState(t, p, "SECONDARY", 30*time.Second) // may already hold before the rollback starts
	harness.WaitFor(t, 30*time.Second, p.String()+" rolled back", func(ctx context.Context) error {
		r, err := rbid(ctx, p)
		if err != nil {
			return err
		}
		if r <= rbidBefore {
			return fmt.Errorf("rbid %d, was %d before the partition", r, rbidBefore)
		}
		st, err := c.State(ctx, p)
		if err != nil {
			return err
		}
		if st != "SECONDARY" {
			return fmt.Errorf("%s is %s", p, st)
		}
		return nil
	})
	c.Timeline.Mark("%s rolled back and is SECONDARY", p)
	trans, err := stateTransitions(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s state transitions: %v", p, trans)
	if !slices.Contains(trans, "SECONDARY->ROLLBACK") {
		t.Errorf("%s never logged the transition to ROLLBACK (21358): %v", p, trans)
	}
	if at, ok := lastLogTime(p, 21358, healed); ok {
		t.Logf("%s: last state transition %.3fs after the heal", p, at.Sub(healed).Seconds())
	}
	np = c.WaitHealthy(t, 30*time.Second)

	// Which w:1 writes reached the majority side? None should, but the partition is not
	// airtight for a reply already in flight: a secondary's awaitData oplog getMore sent before
	// the cut is answered after it, and mongod dials its peers from 127.0.0.1, so the answer
	// (127.0.0.N -> 127.0.0.1) matches no cut rule (harness limitation, see the report). A w:1
	// write the elected primary holds was replicated before its term began: it legitimately
	// survives everywhere and must not be rolled back. Every other w:1 write must be gone from
	// every member and be in the rollback files.
	mu.Lock()
	wantAcked := slices.Clone(acked)
	mu.Unlock()
	attempted := append(slices.Clone(w1OK), w1Failed...)
	slices.Sort(attempted)
	onNew, err := ids(ctx, directColl(t, np, db, collName, writeconcern.W1()))
	if err != nil {
		t.Fatal(err)
	}
	leaked := present(attempted, onNew)
	var rolledBack, gone []string // acknowledged w:1 writes rolled back; every attempt not leaked
	for _, id := range attempted {
		if slices.Contains(leaked, id) {
			continue
		}
		gone = append(gone, id)
		if slices.Contains(w1OK, id) {
			rolledBack = append(rolledBack, id)
		}
	}
	if len(leaked) > 0 {
		t.Logf("w:1 writes replicated to the majority side before the new term (in-flight reply across the cut): %v", leaked)
	}
	if len(rolledBack) == 0 {
		t.Fatalf("no acknowledged w:1 write was left to roll back: acknowledged %v, all on the new primary %s", w1OK, np)
	}
	waitDocsOn(t, c.DataHosts(), db, collName, append(slices.Clone(wantAcked), leaked...), gone, 15*time.Second)

	// ... and in the old primary's rollback files, under the collection's UUID.
	files, err := rollbackFiles(p)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for d := range files {
		dirs = append(dirs, d)
	}
	docs, ok := files[uuid]
	if !ok {
		t.Fatalf("no rollback file under %s/rollback/%s (collection %s.%s); directories: %v", p.DBPath, uuid, db, collName, dirs)
	}
	var rolled []string
	for _, d := range docs {
		id, ok := d.Lookup("_id").StringValueOK()
		if !ok {
			t.Errorf("rollback document without a string _id: %s", d)
			continue
		}
		rolled = append(rolled, id)
	}
	slices.Sort(rolled)
	if m := missing(rolledBack, rolled); len(m) > 0 {
		t.Errorf("acknowledged w:1 writes missing from the rollback files: %v (files hold %v)", m, rolled)
	}
	if l := present(leaked, rolled); len(l) > 0 {
		t.Errorf("rollback files hold %v, which the elected primary had replicated (the common point is after them)", l)
	}
	// Besides the w:1 writes, the files may hold background w:majority attempts the old primary
	// applied but could never acknowledge (the driver retried those on the new primary). Writes
	// majority-committed before the cut or made after the stepdown must never be there.
	for _, id := range rolled {
		if !strings.HasPrefix(id, "w1-") && !strings.HasPrefix(id, "maj-bg-") {
			t.Errorf("rollback file holds %q, which the isolated primary never took while isolated", id)
		}
	}
	t.Logf("rollback files of %s: %d documents under rollback/%s (w:1 acknowledged %d, rolled back %d, replicated before the cut took hold %d)",
		p, len(rolled), uuid, len(w1OK), len(rolledBack), len(leaked))
	c.Timeline.Mark("checked: %d w:majority writes on every member; %d acknowledged w:1 writes only in rollback files",
		len(wantAcked), len(rolledBack))
}
