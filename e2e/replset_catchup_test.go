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

// frozenCatchUpMin is the rule the test expresses, not a measured figure: the new primary
// cannot accept writes before the frozen former primary is marked down, which takes
// heartbeatTimeoutSecs (10 s) from the start of the heartbeat that never came back
// (TopologyCoordinator::latestKnownOpTimeSinceHeartbeatRestart needs a verdict from every
// member; replication_coordinator_impl_heartbeat.cpp gives a request heartbeatTimeoutSecs
// minus the time already elapsed). That heartbeat started at most one heartbeat interval (2 s)
// before the freeze, so no write can land before ~8 s after it; 7 s leaves a second of slop.
const frozenCatchUpMin = 7 * time.Second

// TestReplSetStepUpWithFrozenPrimaryWaitsForCatchUp: MongoDB alone, default settings. SIGSTOP
// the primary; 2 s later replSetStepUp another member. It answers as soon as it is PRIMARY
// (stepUpIfEligible), then stays in catch-up (hello: not writable, secondary) until the frozen
// member is marked down; only then does a w:majority write succeed.
func TestReplSetStepUpWithFrozenPrimaryWaitsForCatchUp(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 3, NoInitiate: true})
	defer c.Timeline.Log(t)
	ctx := context.Background()
	first := c.Hosts()[0]
	mustCommand(t, first, bson.D{{Key: "replSetInitiate", Value: c.InitialConfig()}})
	harness.WaitFor(t, 30*time.Second, "replSetStepUp on "+first.String(), func(ctx context.Context) error {
		_, err := first.Command(ctx, bson.D{{Key: "replSetStepUp", Value: 1}})
		return err
	})
	p := c.WaitHealthy(t, 30*time.Second)
	pcoll := directColl(t, p, "rs", "catchup", writeconcern.Majority())
	for i := range 10 {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := pcoll.InsertOne(wctx, bson.D{{Key: "_id", Value: fmt.Sprintf("pre-%02d", i)}})
		cancel()
		if err != nil {
			t.Fatalf("w:majority insert on %s: %v", p, err)
		}
	}
	others := c.Others(p)
	s := others[0]
	scoll := directColl(t, s, "rs", "catchup", writeconcern.Majority())

	if err := p.Freeze(); err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	c.Timeline.Zero("SIGSTOP primary %s", p)
	t.Cleanup(func() { _ = p.Thaw() })

	// The scenario's delay before the operator acts (not a synchronisation wait).
	<-time.After(time.Until(frozen.Add(2 * time.Second)))
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err := s.Command(sctx, bson.D{{Key: "replSetStepUp", Value: 1}})
	cancel()
	stepUpReply := time.Since(frozen)
	if err != nil {
		t.Fatalf("replSetStepUp on %s: %v", s, err)
	}
	c.Timeline.Mark("replSetStepUp on %s answered", s)

	// PRIMARY (replSetGetStatus) at once, but hello says not writable, secondary: catch-up.
	var primarySeen time.Duration
	harness.WaitFor(t, 10*time.Second, s.String()+" PRIMARY", func(ctx context.Context) error {
		st, err := c.Status(ctx, s)
		if err != nil {
			return err
		}
		if n, _ := asInt64(st["myState"]); n != 1 {
			return fmt.Errorf("myState %v", st["myState"])
		}
		primarySeen = time.Since(frozen)
		return nil
	})
	hello, err := s.Hello(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inCatchUp := time.Since(frozen) < frozenCatchUpMin
	if inCatchUp && (hello["isWritablePrimary"] != false || hello["secondary"] != true) {
		t.Fatalf("hello on %s in catch-up: isWritablePrimary=%v secondary=%v", s, hello["isWritablePrimary"], hello["secondary"])
	}

	var firstWrite time.Duration
	n := 0
	err = harness.Poll(ctx, 60*time.Second, func(ctx context.Context) error {
		n++
		wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if _, err := scoll.InsertOne(wctx, bson.D{{Key: "_id", Value: fmt.Sprintf("post-%04d", n)}}); err != nil {
			return err
		}
		firstWrite = time.Since(frozen)
		return nil
	})
	if err != nil {
		t.Fatalf("no w:majority write accepted by %s within 60s: %v", s, err)
	}
	c.Timeline.Mark("first w:majority write on %s", s)
	raw, err := s.Command(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Members []struct {
			Name    string  `bson:"name"`
			Health  float64 `bson:"health"`
			Message string  `bson:"lastHeartbeatMessage"`
		} `bson:"members"`
	}
	if err := bson.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	for _, m := range st.Members {
		if m.Name == p.HostPort() {
			t.Logf("%s sees the frozen %s: health=%v lastHeartbeatMessage=%q", s, p, m.Health, m.Message)
			if m.Health != 0 {
				t.Errorf("%s took a w:majority write while the frozen member still has health %v", s, m.Health)
			}
		}
	}
	for _, ev := range []struct {
		id   int
		what string
	}{{21359, "entered catch-up"}, {21364, "caught up (target known)"}, {21363, "left catch-up"}, {21331, "writable"}} {
		if at, ok := lastLogTime(s, ev.id, frozen); ok {
			t.Logf("%s log: %s %.3fs after the SIGSTOP", s, ev.what, at.Sub(frozen).Seconds())
		}
	}
	t.Logf("after SIGSTOP of %s: replSetStepUp on %s answered at %.3fs, PRIMARY seen at %.3fs, first w:majority write at %.3fs",
		p, s, stepUpReply.Seconds(), primarySeen.Seconds(), firstWrite.Seconds())
	c.Timeline.Mark("stepUp reply %.2fs, PRIMARY %.2fs, first w:majority write %.2fs", stepUpReply.Seconds(), primarySeen.Seconds(), firstWrite.Seconds())
	if firstWrite < frozenCatchUpMin {
		t.Errorf("first w:majority write %v after the SIGSTOP: sooner than a frozen member can be marked down (>= %v)", firstWrite, frozenCatchUpMin)
	}
	if stepUpReply > firstWrite {
		t.Errorf("replSetStepUp answered (%v) after the node was writable (%v): it must answer once PRIMARY", stepUpReply, firstWrite)
	}
}
