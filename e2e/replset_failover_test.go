package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/e2e/harness"
)

// Native failover bounds with mongod's DEFAULT settings (spec §5.2, §5.6): a follower runs for
// election electionTimeoutMillis (10s) + U[0, 15%) after it last heard from the primary, then a
// dry run and a real election (one round trip each), catch-up and drain.
//
// The pass/fail window is deliberately loose, because timing numbers belong in drill reports (the
// measured figure is printed on the Timeline), not in thresholds:
//   - upper bound 30s: a new writable primary must appear; that is mongod's documented median
//     (~12s) with ample room for a loaded 2-core CI machine;
//   - lower bound 9s: a sanity check that the default election timeout is honoured, not a
//     shortened one. The test keeps writing w:majority until the instant of the kill, so both
//     secondaries have just heard from the primary (oplog fetch metadata resets their election
//     timers, §5.2), and the earliest legal election is ~10s after the kill; 9s leaves a second for
//     clock and scheduling slop.
const (
	nativeFailoverMin = 9 * time.Second
	nativeFailoverMax = 30 * time.Second
)

// TestReplSetNativeFailover: SIGKILL of the primary of a 3-node set with default settings; measure
// the time from the kill to the first successful w:majority write on the new primary; restart the
// killed node and check it rejoins as SECONDARY with every acknowledged majority write.
func TestReplSetNativeFailover(t *testing.T) {
	// Default settings: no Settings override. The first election after initiate would wait for
	// the default election timeout too; replSetStepUp (spec §6.3) saves those ~10s.
	c := harness.NewCluster(t, harness.Options{Members: 3, NoInitiate: true})
	defer c.Timeline.Log(t)
	ctx := context.Background()
	first := c.Hosts()[0]
	mustCommand(t, first, bson.D{{Key: "replSetInitiate", Value: c.InitialConfig()}})
	c.Timeline.Mark("replSetInitiate on %s (default settings)", first)
	harness.WaitFor(t, 30*time.Second, "replSetStepUp on "+first.String(), func(ctx context.Context) error {
		_, err := first.Command(ctx, bson.D{{Key: "replSetStepUp", Value: 1}})
		return err // e.g. CommandFailed while the others have no config yet to vote with
	})
	p := c.WaitHealthy(t, 30*time.Second)
	cfg, err := rsConfig(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	settings, _ := cfg["settings"].(bson.M)
	if et, err := asInt64(settings["electionTimeoutMillis"]); err != nil || et != 10000 {
		t.Fatalf("config settings.electionTimeoutMillis = %v, want the default 10000 (%v)", settings["electionTimeoutMillis"], err)
	}

	// Direct w:majority collections on every member: after the kill, the first member that
	// accepts a majority write is the new writable primary, as a driver would find it.
	direct := map[*harness.Host]*mongo.Collection{}
	for _, h := range c.DataHosts() {
		direct[h] = directColl(t, h, "rs", "failover", writeconcern.Majority())
	}
	var acked []string
	insert := func(ctx context.Context, h *harness.Host, id string) error {
		wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if _, err := direct[h].InsertOne(wctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			return err
		}
		acked = append(acked, id)
		return nil
	}
	for i := range 20 {
		if err := insert(ctx, p, fmt.Sprintf("pre-%02d", i)); err != nil {
			t.Fatalf("w:majority insert on %s: %v", p, err)
		}
	}
	// Who syncs from whom matters for the election timers (drill detail): a secondary fetching
	// from the primary hears from it with every batch.
	for _, h := range c.Others(p) {
		if st, err := c.Status(ctx, h); err == nil {
			t.Logf("%s syncs from %v", h, st["syncSourceHost"])
		}
	}
	// The last acknowledged majority write is immediately followed by the kill (see
	// nativeFailoverMin).
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	c.Timeline.Zero("SIGKILL primary %s", p)

	var np *harness.Host
	n := 0
	lastFailure := map[*harness.Host]string{} // for the drill: why the previous attempt failed
	err = harness.Poll(ctx, nativeFailoverMax, func(ctx context.Context) error {
		var errs []error
		for _, h := range c.Others(p) {
			n++
			t0 := time.Now()
			err := insert(ctx, h, fmt.Sprintf("post-%04d", n))
			if err == nil {
				np = h
				return nil
			}
			lastFailure[h] = fmt.Sprintf("attempt at +%.3fs took %v: %v", t0.Sub(killed).Seconds(), time.Since(t0).Round(time.Millisecond), err)
			errs = append(errs, fmt.Errorf("%s: %w", h, err))
		}
		return fmt.Errorf("no w:majority write accepted: %v", errs)
	})
	elapsed := time.Since(killed)
	if err != nil {
		t.Fatalf("no new writable primary within %v of the kill: %v", nativeFailoverMax, err)
	}
	// The new primary's own log says when it won and when it took writes (drill detail).
	for _, ev := range []struct {
		id   int
		what string
	}{{21438, "dry-run election started"}, {21331, "transition to primary complete"}} {
		if at, ok := lastLogTime(np, ev.id, killed); ok {
			t.Logf("%s log: %s %.3fs after the kill", np, ev.what, at.Sub(killed).Seconds())
		}
	}
	for _, h := range c.Others(p) {
		if h == np {
			continue
		}
		if at, ok := lastLogTime(h, 21088, killed); ok { // "Changed sync source"
			t.Logf("%s log: changed sync source %.3fs after the kill", h, at.Sub(killed).Seconds())
		}
	}
	t.Logf("%s: last refused w:majority write before that: %s", np, lastFailure[np])
	c.Timeline.Mark("native failover: new writable primary %s after %.1fs", np, elapsed.Seconds())
	t.Logf("native failover: new writable primary %s after %.1fs (default settings)", np, elapsed.Seconds())
	if elapsed < nativeFailoverMin {
		t.Errorf("new primary after %v: sooner than the default election timeout allows (>= %v)", elapsed, nativeFailoverMin)
	}
	hp, err := c.Primary(ctx)
	if err != nil || hp != np {
		t.Errorf("hello says primary %v (%v), but the majority write went to %s", hp, err, np)
	}

	// The killed node restarts on its dbpath and rejoins as SECONDARY with every acknowledged
	// majority write, counted on it directly.
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c.WaitState(t, p, "SECONDARY", 30*time.Second)
	if err := insert(ctx, np, "after-rejoin"); err != nil {
		t.Fatalf("w:majority insert after the rejoin: %v", err)
	}
	waitDocsOn(t, []*harness.Host{p}, "rs", "failover", acked, nil, 15*time.Second)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cnt, err := directColl(t, p, "rs", "failover", writeconcern.W1()).CountDocuments(cctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	// A write whose reply was lost in the failover may exist without an acknowledgement, so the
	// count may exceed the acknowledged writes, never fall short of them.
	if cnt < int64(len(acked)) {
		t.Errorf("rejoined %s counts %d documents, want at least the %d acknowledged", p, cnt, len(acked))
	}
	t.Logf("rejoined %s: %d documents, %d acknowledged w:majority writes", p, cnt, len(acked))
	c.WaitHealthy(t, 30*time.Second)
	waitDocsOn(t, c.DataHosts(), "rs", "failover", acked, nil, 15*time.Second)
}
