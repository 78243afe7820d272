package e2e

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/mongo"
)

// TestJournalProbeTellsLagFromStall: the supervisor's two write probes against a real set (the
// mongod of $RSGUARD_MONGOD, mongoemu by default). With the secondaries not applying
// (rsSyncApplyStop), the w:1 j:true probe stays fast and the w:"majority" one times out with
// WriteConcernFailed; with the primary's disk stalled (mongoemuDiskStall blocked / fsyncLock,
// which holds the global lock in S, commands/fsync.cpp) the w:1 j:true probe stalls too. That
// difference is the whole of election.ReplicationLagging versus election.SickPrimary.
func TestJournalProbeTellsLagFromStall(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: fastSettings})
	defer c.Timeline.Log(t)
	p := c.WaitPrimary(t, 30*time.Second)
	ctx := context.Background()
	n, err := mongo.Dial(ctx, slog.New(slog.DiscardHandler), mongo.Options{URI: p.HostPort()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(ctx)
	probe := func(what string, run func(context.Context, string) (time.Duration, error), timeout time.Duration) (time.Duration, error) {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		lat, err := run(pctx, "e2e")
		t.Logf("%s: %s, %v (%s)", what, lat, err, mongo.ClassifyProbe(err))
		return lat, err
	}
	harness.WaitFor(t, 30*time.Second, "both probes succeed on a healthy set", func(context.Context) error {
		if _, err := probe("healthy w:majority", n.WriteProbe, 2*time.Second); err != nil {
			return err
		}
		_, err := probe("healthy w:1 j:true", n.JournalProbe, 2*time.Second)
		return err
	})

	if err := c.LagSecondaries(ctx, true); err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			if err := c.LagSecondaries(ctx, false); err != nil {
				t.Error(err)
			}
		}
	}
	defer release()
	for range 3 {
		if lat, err := probe("lagging w:1 j:true", n.JournalProbe, 2*time.Second); err != nil || lat > time.Second {
			t.Fatalf("w:1 j:true while only the secondaries lag: %s, %v", lat, err)
		}
	}
	if _, err := probe("lagging w:majority", n.WriteProbe, 1500*time.Millisecond); mongo.ClassifyProbe(err) != mongo.ProbeWriteConcern {
		t.Fatalf("w:majority while the secondaries do not apply: want wtimeout, got %q: %v", mongo.ClassifyProbe(err), err)
	}
	release()

	if err := p.DiskStall(ctx, true); err != nil {
		t.Fatal(err)
	}
	stalled := true
	defer func() {
		if stalled {
			_ = p.DiskStall(context.Background(), false)
		}
	}()
	lat, err := probe("disk stall w:1 j:true", n.JournalProbe, 1500*time.Millisecond)
	if k := mongo.ClassifyProbe(err); k != mongo.ProbeTimeout {
		t.Fatalf("w:1 j:true on a stalled disk: want timeout, got %q after %s: %v", k, lat, err)
	}
	if err := p.DiskStall(ctx, false); err != nil {
		t.Fatal(err)
	}
	stalled = false
	harness.WaitFor(t, 30*time.Second, "w:1 j:true again after the stall", func(context.Context) error {
		_, err := probe("after the stall w:1 j:true", n.JournalProbe, 2*time.Second)
		return err
	})
}
