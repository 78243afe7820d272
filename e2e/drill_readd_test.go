package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/supervisor"
)

// TestDrillReAddRemovedMember: a force reconfig drops a healthy secondary from the replica set
// config (as an operator's emergency reconfig does while a member is unreachable). The member is
// still in the sidecars' members, so the primary's sidecar adds it back with two safe reconfigs:
// a voter with priority 0, then its priority once it is a caught-up SECONDARY. No operator command.
func TestDrillReAddRemovedMember(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{})
	cars.Start(t)
	cars.WaitSettled(t, drillSettleTimeout)
	p := d.WaitHealthy(t, drillRejoinTimeout)
	v := d.c.Others(p)[0]
	ctx := context.Background()

	raw, err := p.Command(ctx, bson.D{{Key: "replSetGetConfig", Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Config bson.M `bson:"config"`
	}
	if err := bson.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	cfg := got.Config
	var kept bson.A
	for _, m := range cfg["members"].(bson.A) {
		doc, _ := m.(bson.D)
		host := ""
		for _, e := range doc {
			if e.Key == "host" {
				host, _ = e.Value.(string)
			}
		}
		if host != v.HostPort() {
			kept = append(kept, m)
		}
	}
	cfg["members"] = kept
	ver, _ := asInt64(cfg["version"])
	cfg["version"] = ver + 1
	t0 := time.Now()
	if _, err := p.Command(ctx, bson.D{{Key: "replSetReconfig", Value: cfg}, {Key: "force", Value: true}}); err != nil {
		t.Fatalf("force reconfig without %s: %v", v, err)
	}
	d.c.Timeline.Zero("force reconfig on %s drops %s", p, v)

	type member struct {
		Host     string            `bson:"host"`
		Votes    int               `bson:"votes"`
		Priority float64           `bson:"priority"`
		Tags     map[string]string `bson:"tags"`
	}
	var addedAt, restoredAt time.Time
	defer func() {
		if t.Failed() {
			cars.LogAudit(t, t0)
		}
	}()
	harness.WaitFor(t, 40*time.Second, v.String()+" back in the config with its priority", func(ctx context.Context) error {
		raw, err := p.Command(ctx, bson.D{{Key: "replSetGetConfig", Value: 1}})
		if err != nil {
			return err
		}
		var c struct {
			Config struct {
				Members []member `bson:"members"`
			} `bson:"config"`
		}
		if err := bson.Unmarshal(raw, &c); err != nil {
			return err
		}
		for _, m := range c.Config.Members {
			if m.Host != v.HostPort() {
				continue
			}
			if addedAt.IsZero() {
				addedAt = time.Now()
			}
			if m.Votes != 1 || m.Priority != 1 || m.Tags[recovery.ReAddedTag] != "" {
				st, _ := d.c.State(ctx, v)
				ms, _ := d.c.Members(ctx, p)
				return fmt.Errorf("%s (%s): votes %d priority %v tags %v; the primary sees %+v", v, st, m.Votes, m.Priority, m.Tags, ms)
			}
			restoredAt = time.Now()
			return nil
		}
		return fmt.Errorf("%s not in the config", v)
	})
	d.c.Timeline.Mark("%s re-added, priority restored", v)
	fp := d.WaitHealthy(t, drillRejoinTimeout)
	var actions []string
	for _, r := range cars.AllAudit(t) {
		if r.Result == supervisor.ResultExecuted && (r.Decision.Action == "re_add" || r.Decision.Action == "re_add_restore_priority") {
			actions = append(actions, fmt.Sprintf("%s %s by %s (%s)", r.Decision.Action, r.Decision.Target, r.Sidecar, r.Reason))
		}
	}
	if len(actions) != 2 {
		t.Errorf("re-add reconfigs audited: %v, want re_add then re_add_restore_priority", actions)
	}
	rep := newDrillReport("Drill 13: a member dropped by a force reconfig is added back by the primary's sidecar")
	rep.line("- force reconfig -> back in the config %.1fs, -> priority restored %.1fs; primary %s at the end", addedAt.Sub(t0).Seconds(), restoredAt.Sub(t0).Seconds(), fp)
	rep.line("- audited: %v", actions)
	rep.publish(t)
}
