package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/e2e/harness"
)

// TestReplSetStepDownWithoutElectableSecondary: with both secondaries frozen (frozen members are
// not electable, spec §6.2), a non-force replSetStepDown finds no electable caught-up secondary
// and fails with ExceededTimeLimit (262) after secondaryCatchUpPeriodSecs; the node stays
// primary and writable (spec §6.1).
func TestReplSetStepDownWithoutElectableSecondary(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: fastSettings})
	defer c.Timeline.Log(t)
	ctx := context.Background()
	p := c.WaitPrimary(t, 30*time.Second)
	secs := c.Others(p)
	pw := directColl(t, p, "rs", "stepdown", writeconcern.Majority())
	if _, err := pw.InsertOne(ctx, bson.D{{Key: "_id", Value: "before"}}); err != nil {
		t.Fatal(err)
	}

	frozen := time.Now()
	for _, s := range secs {
		mustCommand(t, s, bson.D{{Key: "replSetFreeze", Value: 60}})
	}
	c.Timeline.Mark("froze %s and %s for 60s", secs[0], secs[1])
	// The primary learns that a member is unelectable from its heartbeat replies: wait until it
	// has heard from both since the freeze.
	waitHeartbeatsSince(t, c, p, secs, frozen)

	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err := p.Command(cctx, bson.D{{Key: "replSetStepDown", Value: 5}, {Key: "secondaryCatchUpPeriodSecs", Value: 2}})
	cancel()
	took := time.Since(start)
	c.Timeline.Mark("replSetStepDown {5, secondaryCatchUpPeriodSecs: 2} returned after %.1fs: %v", took.Seconds(), err)
	wantCode(t, "replSetStepDown with both secondaries frozen", err, 262)
	if took < 1500*time.Millisecond {
		t.Errorf("replSetStepDown returned after %v, before secondaryCatchUpPeriodSecs (2s) passed", took)
	}
	if st, err := c.State(ctx, p); err != nil || st != "PRIMARY" {
		t.Fatalf("%s after the failed stepdown: %s (%v), want PRIMARY", p, st, err)
	}
	harness.WaitFor(t, 5*time.Second, p.String()+" writable after the failed stepdown", func(ctx context.Context) error {
		_, err := pw.InsertOne(ctx, bson.D{{Key: "_id", Value: "after-failed-stepdown"}})
		return err
	})
	if np, err := c.Primary(ctx); err != nil || np != p {
		t.Errorf("primary after the failed stepdown: %v (%v), want %s", np, err, p)
	}
}

// waitHeartbeatsSince polls h's replSetGetStatus until h got a heartbeat reply from each of from
// after since (members[].lastHeartbeat).
func waitHeartbeatsSince(t testing.TB, c *harness.Cluster, h *harness.Host, from []*harness.Host, since time.Time) {
	t.Helper()
	harness.WaitFor(t, 10*time.Second, h.String()+" hearing from "+fmt.Sprint(from), func(ctx context.Context) error {
		raw, err := h.Command(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}})
		if err != nil {
			return err
		}
		var st struct {
			Members []struct {
				Name          string    `bson:"name"`
				LastHeartbeat time.Time `bson:"lastHeartbeat"`
			} `bson:"members"`
		}
		if err := bson.Unmarshal(raw, &st); err != nil {
			return err
		}
		for _, f := range from {
			found := false
			for _, m := range st.Members {
				if m.Name != f.HostPort() {
					continue
				}
				found = true
				if !m.LastHeartbeat.After(since) {
					return fmt.Errorf("%s last heard from %s at %v, before %v", h, f, m.LastHeartbeat, since)
				}
			}
			if !found {
				return fmt.Errorf("%s does not list %s", h, f)
			}
		}
		return nil
	})
}
