package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/e2e/harness"
)

// TestReplSetCommandsAndCodes drives the commands a supervisor uses and checks their answers and
// error codes (spec §4.5, §4.6, §6.1-§6.3) on one 3-node set, in an order where each step leaves
// the set usable for the next; the force reconfig after killing two members comes last.
func TestReplSetCommandsAndCodes(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: fastSettings})
	defer c.Timeline.Log(t)
	ctx := context.Background()
	run := func(h *harness.Host, cmd bson.D) (bson.Raw, error) {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return h.Command(cctx, cmd)
	}
	p := c.WaitPrimary(t, 30*time.Second)
	secs := c.Others(p)

	// §6.1: stepDown on a secondary → NotWritablePrimary (10107).
	_, err := run(secs[0], bson.D{{Key: "replSetStepDown", Value: 10}})
	wantCode(t, "replSetStepDown on secondary "+secs[0].String(), err, 10107)

	// §6.1: secondaryCatchUpPeriodSecs longer than the stepdown period → BadValue (2).
	_, err = run(p, bson.D{{Key: "replSetStepDown", Value: 5}, {Key: "secondaryCatchUpPeriodSecs", Value: 10}})
	wantCode(t, "replSetStepDown 5 with secondaryCatchUpPeriodSecs 10", err, 2)

	// §6.2: freeze on the primary → NotSecondary (95).
	_, err = run(p, bson.D{{Key: "replSetFreeze", Value: 30}})
	wantCode(t, "replSetFreeze on primary "+p.String(), err, 95)
	if st, err := c.State(ctx, p); err != nil || st != "PRIMARY" {
		t.Fatalf("%s after the refused commands: %s (%v), want PRIMARY", p, st, err)
	}

	// §6.3: stepUp on a caught-up secondary → it becomes primary. w:3 makes it caught up.
	w3 := c.MajorityClient(t).Database("rs").Collection("cmds",
		options.Collection().SetWriteConcern(&writeconcern.WriteConcern{W: 3}))
	if _, err := w3.InsertOne(ctx, bson.D{{Key: "_id", Value: "caught-up"}}); err != nil {
		t.Fatalf("w:3 insert: %v", err)
	}
	up := secs[0]
	if _, err := run(up, bson.D{{Key: "replSetStepUp", Value: 1}}); err != nil {
		t.Fatalf("replSetStepUp on caught-up secondary %s: %v", up, err)
	}
	harness.WaitFor(t, 10*time.Second, up.String()+" primary after replSetStepUp", func(ctx context.Context) error {
		np, err := c.Primary(ctx)
		if err != nil {
			return err
		}
		if np != up {
			return fmt.Errorf("primary is %s", np)
		}
		return nil
	})
	c.Timeline.Mark("replSetStepUp: %s is primary", up)
	p, secs = up, c.Others(up)
	c.WaitHealthy(t, 15*time.Second)

	// §4.5: a safe reconfig changing one member's priority → ok, and hello's setVersion bumps.
	// Lowering a secondary's priority keeps the primary in place (no priority takeover).
	cfg, err := rsConfig(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	oldVersion, err := setVersion(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	members := cfg["members"].(bson.A)
	for _, m := range members {
		m := m.(bson.M)
		if m["host"] == secs[1].HostPort() {
			m["priority"] = 0.5
		}
	}
	cfg["version"] = mustInt64(t, cfg["version"]) + 1
	if _, err := run(p, bson.D{{Key: "replSetReconfig", Value: cfg}}); err != nil {
		t.Fatalf("safe reconfig (priority of %s 1 -> 0.5): %v", secs[1], err)
	}
	for _, h := range c.Hosts() {
		harness.WaitFor(t, 10*time.Second, "setVersion bump on "+h.String(), func(ctx context.Context) error {
			v, err := setVersion(ctx, h)
			if err != nil {
				return err
			}
			if v <= oldVersion {
				return fmt.Errorf("%s: setVersion %d, was %d", h, v, oldVersion)
			}
			return nil
		})
	}
	c.Timeline.Mark("safe reconfig: setVersion %d -> higher on every member", oldVersion)

	// §4.5: adding two voters at once → NewReplicaSetConfigurationIncompatible (103). Nobody
	// listens on the two new ports: the single-voter rule is checked before any quorum check.
	// (Not 127.0.0.1: mongod counts it as a localhost reference, and mixing those with other
	// hosts is InvalidReplicaSetConfig 93.)
	cfg, err = rsConfig(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	two := bson.A{}
	two = append(two, cfg["members"].(bson.A)...)
	two = append(two,
		bson.M{"_id": 10, "host": "127.0.0.254:1"},
		bson.M{"_id": 11, "host": "127.0.0.254:2"})
	twoCfg := cloneM(cfg)
	twoCfg["members"] = two
	twoCfg["version"] = mustInt64(t, cfg["version"]) + 1
	_, err = run(p, bson.D{{Key: "replSetReconfig", Value: twoCfg}})
	wantCode(t, "reconfig adding two voters", err, 103)

	// §4.5: reconfig on a secondary without force → NotWritablePrimary (10107).
	secCfg := cloneM(cfg)
	secCfg["version"] = mustInt64(t, cfg["version"]) + 1
	_, err = run(secs[0], bson.D{{Key: "replSetReconfig", Value: secCfg}})
	wantCode(t, "reconfig on secondary "+secs[0].String(), err, 10107)

	// §4.6: force reconfig on the survivor after killing the other two members (the primary and
	// a secondary), keeping only the survivor → ok, version jumps by >= 10000, and it elects
	// itself.
	survivor := secs[0]
	cfg, err = rsConfig(ctx, survivor)
	if err != nil {
		t.Fatal(err)
	}
	before := mustInt64(t, cfg["version"])
	for _, h := range []*harness.Host{p, secs[1]} {
		if err := h.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	c.Timeline.Zero("killed %s and %s; force reconfig on %s", p, secs[1], survivor)
	var keep bson.A
	for _, m := range cfg["members"].(bson.A) {
		if m.(bson.M)["host"] == survivor.HostPort() {
			keep = append(keep, m)
		}
	}
	if len(keep) != 1 {
		t.Fatalf("survivor %s not found in config members %v", survivor, cfg["members"])
	}
	cfg["members"] = keep
	cfg["version"] = before + 1
	if _, err := run(survivor, bson.D{{Key: "replSetReconfig", Value: cfg}, {Key: "force", Value: true}}); err != nil {
		t.Fatalf("force reconfig on %s: %v", survivor, err)
	}
	after, err := rsConfig(ctx, survivor)
	if err != nil {
		t.Fatal(err)
	}
	if v := mustInt64(t, after["version"]); v < before+10000 {
		t.Errorf("force reconfig: version %d -> %d, want a jump of at least 10000", before, v)
	} else {
		t.Logf("force reconfig: version %d -> %d", before, v)
	}
	if n := len(after["members"].(bson.A)); n != 1 {
		t.Errorf("config after force reconfig has %d members, want 1", n)
	}
	np := c.WaitPrimary(t, 15*time.Second)
	if np != survivor {
		t.Fatalf("primary after force reconfig: %s, want the survivor %s", np, survivor)
	}
	c.Timeline.Mark("survivor %s is primary", survivor)
	hv, err := setVersion(ctx, survivor)
	if err != nil || hv < before+10000 {
		t.Errorf("hello setVersion on %s = %d (%v), want >= %d", survivor, hv, err, before+10000)
	}
	sw := directColl(t, survivor, "rs", "cmds", writeconcern.Majority())
	harness.WaitFor(t, 10*time.Second, "w:majority write on the one-member set", func(ctx context.Context) error {
		_, err := sw.InsertOne(ctx, bson.D{{Key: "_id", Value: "after-force-reconfig"}})
		return err
	})
}

func mustInt64(t testing.TB, v any) int64 {
	t.Helper()
	n, err := asInt64(v)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// cloneM copies the top level of a config (members are replaced, not edited, by the callers).
func cloneM(m bson.M) bson.M {
	out := bson.M{}
	for k, v := range m {
		out[k] = v
	}
	return out
}
