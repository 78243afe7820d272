package e2e

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/e2e/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }

// fastSettings shorten mongod's timings the way MongoDB's own replication tests do, so the smoke
// test stays well under a minute. Drills that measure failover keep the defaults.
var fastSettings = bson.D{
	{Key: "electionTimeoutMillis", Value: 1000},
	{Key: "heartbeatIntervalMillis", Value: 200},
	{Key: "heartbeatTimeoutSecs", Value: 2},
}

const dialTimeout = 300 * time.Millisecond

// TestHarnessSmoke exercises the harness end to end: a 3-member set on 127.0.0.N, SIGKILL and
// restart of a secondary, SIGSTOP/SIGCONT, a disk stall, and a partition of the primary.
func TestHarnessSmoke(t *testing.T) {
	mongod, supervisor := harness.BuildOnce(t)
	t.Logf("mongod=%s supervisor=%q", mongod, supervisor)
	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: fastSettings})
	t.Logf("cluster %s", c)
	defer c.Timeline.Log(t)

	p := c.WaitPrimary(t, 30*time.Second)
	ctx := context.Background()
	members, err := c.Members(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	healthy := 0
	for _, m := range members {
		if m.Health == 1 && (m.StateStr == "PRIMARY" || m.StateStr == "SECONDARY") {
			healthy++
		}
	}
	if healthy != 3 {
		t.Fatalf("primary %s sees %d healthy members, want 3: %+v", p, healthy, members)
	}
	coll := c.MajorityClient(t).Database("smoke").Collection("c")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "step", Value: "start"}}); err != nil {
		t.Fatalf("w:majority insert: %v", err)
	}

	t.Run("kill-restart-secondary", func(t *testing.T) {
		p := c.WaitPrimary(t, 30*time.Second)
		sec := c.Others(p)[0]
		if err := sec.Kill(); err != nil {
			t.Fatal(err)
		}
		if sec.Running() || sec.ExitCode() != -1 {
			t.Fatalf("after SIGKILL: running=%v exit=%d", sec.Running(), sec.ExitCode())
		}
		if err := harness.DialFrom("127.0.0.1", sec.HostPort(), dialTimeout); err == nil {
			t.Fatalf("%s still accepts connections after SIGKILL", sec)
		}
		if err := sec.Start(ctx); err != nil {
			t.Fatal(err)
		}
		c.WaitState(t, sec, "SECONDARY", 30*time.Second)
		c.WaitHealthy(t, 30*time.Second)
	})

	t.Run("freeze-thaw", func(t *testing.T) {
		p := c.WaitPrimary(t, 30*time.Second)
		sec := c.Others(p)[1]
		if err := sec.Freeze(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if t.Failed() { // an assertion stopped the test before Thaw
				_ = sec.Thaw()
			}
		}()
		hctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err := sec.Hello(hctx)
		cancel()
		if err == nil {
			t.Fatalf("frozen %s answered hello", sec)
		}
		if err := sec.Thaw(); err != nil {
			t.Fatal(err)
		}
		harness.WaitFor(t, 10*time.Second, "thawed host answers", func(ctx context.Context) error {
			_, err := sec.Hello(ctx)
			return err
		})
	})

	t.Run("disk-stall", func(t *testing.T) {
		p := c.WaitPrimary(t, 30*time.Second)
		pc := p.Client(t).Database("smoke").Collection("stall")
		if err := p.DiskStall(ctx, true); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err := pc.InsertOne(wctx, bson.D{{Key: "stalled", Value: true}})
		cancel()
		if err == nil {
			t.Errorf("write on %s succeeded during a disk stall", p)
		}
		if err := p.DiskStall(ctx, false); err != nil {
			t.Fatal(err)
		}
		harness.WaitFor(t, 10*time.Second, "writes after the stall", func(ctx context.Context) error {
			_, err := pc.InsertOne(ctx, bson.D{{Key: "stalled", Value: false}})
			return err
		})
	})

	t.Run("partition-primary", func(t *testing.T) {
		fw, err := harness.NewFirewall(t)
		if err != nil {
			t.Fatal(err)
		}
		fw.Timeline = c.Timeline
		p := c.WaitPrimary(t, 30*time.Second)
		secs := c.Others(p)
		c.Timeline.Zero("partition: cutting primary %s from %s and %s", p, secs[0], secs[1])
		fw.Isolate(p, secs...)

		for _, s := range secs {
			if err := harness.DialFrom(p.Addr, s.HostPort(), dialTimeout); err == nil {
				t.Errorf("%s reached %s across the cut", p.Addr, s)
			}
			if err := harness.DialFrom(s.Addr, p.HostPort(), dialTimeout); err == nil {
				t.Errorf("%s reached %s across the cut", s.Addr, p)
			}
			if err := harness.DialFrom("127.0.0.1", s.HostPort(), dialTimeout); err != nil {
				t.Errorf("the test process cannot reach %s: %v", s, err)
			}
		}
		if err := harness.DialFrom(secs[0].Addr, secs[1].HostPort(), dialTimeout); err != nil {
			t.Errorf("secondaries cannot talk to each other: %v", err)
		}

		// What the set does about it is mongod's business, not the harness's: report, don't judge.
		err = harness.Poll(ctx, 15*time.Second, func(ctx context.Context) error {
			np, err := c.Primary(ctx)
			if err != nil {
				return err
			}
			if np == p {
				return errors.New("old primary still has the newest term")
			}
			c.Timeline.Mark("observed new primary %s", np)
			return nil
		})
		if err != nil {
			t.Logf("no new primary on the majority side within 15s: %v", err)
		}

		fw.HealAll()
		for _, s := range secs {
			if err := harness.DialFrom(p.Addr, s.HostPort(), dialTimeout); err != nil {
				t.Errorf("%s cannot reach %s after heal: %v", p.Addr, s, err)
			}
			if err := harness.DialFrom(s.Addr, p.HostPort(), dialTimeout); err != nil {
				t.Errorf("%s cannot reach %s after heal: %v", s.Addr, p, err)
			}
		}
		np := c.WaitHealthy(t, 30*time.Second)
		c.Timeline.Mark("healthy again, primary %s", np)
	})
}

// TestHarnessSmokeArbiters covers arbiters (PSA) and the clean-shutdown path: SIGTERM with exit
// code 0 and Restart on the same dbpath.
func TestHarnessSmokeArbiters(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 2, Arbiters: 1, Settings: fastSettings,
		// A signalled secondary quiesces this long (spec §6.9; mongod's default is 15s).
		ExtraParams: map[string]string{"shutdownTimeoutMillisForSignaledShutdown": "1000"}})
	defer c.Timeline.Log(t)
	ctx := context.Background()
	arb := c.Hosts()[2]
	if !arb.Arbiter {
		t.Fatalf("last host %s is not the arbiter", arb)
	}
	c.WaitState(t, arb, "ARBITER", 30*time.Second)
	if err := arb.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := arb.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c.WaitState(t, arb, "ARBITER", 30*time.Second)

	sec := c.Others(c.WaitPrimary(t, 30*time.Second))[0]
	if sec.Arbiter {
		t.Fatalf("Others(primary)[0] = %s is an arbiter", sec)
	}
	if err := sec.Stop(); err != nil {
		t.Fatal(err)
	}
	if sec.Running() || sec.ExitCode() != 0 {
		t.Fatalf("after SIGTERM: running=%v exit=%d", sec.Running(), sec.ExitCode())
	}
	if err := sec.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	c.WaitState(t, sec, "SECONDARY", 30*time.Second)
	c.WaitHealthy(t, 30*time.Second)
}
