package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/supervisor"
)

// psaLostAfter is recovery.psa_lost_after: the default (30s) under `make drill`, 10s in the
// default suite's short form.
func psaLostAfter() string { return shortOrFull("10s", "30s") }

// TestDrillPSAMitigation: a primary-secondary-arbiter set loses its secondary (SIGKILL, it stays
// down). w:"majority" writes stall: the arbiter votes but holds no data. After
// recovery.psa_lost_after the primary's sidecar reconfigures the lost secondary to votes 0 /
// priority 0 and majority writes flow again on the primary alone. The secondary comes back,
// catches up, and the sidecar restores its votes, then its priority, each a separate safe
// reconfig. Reported: the stall's length, and the time from the restart to each restore (the
// recovery issue asks for 60 s each).
func TestDrillPSAMitigation(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	lost := psaLostAfter()
	d := newDrillSet(t, 2, 1, 0)
	defer d.c.Timeline.Log(t)
	cars := newSidecars(t, supBin, "rs0", d.data, d.members[2:], sidecarOpts{Extra: "recovery:\n  psa_lost_after: " + lost + "\n"})
	cars.Start(t)
	cars.WaitSettled(t, drillSettleTimeout)
	p := d.WaitHealthy(t, drillRejoinTimeout)
	sec := d.c.Others(p)[0]
	if sec.Arbiter {
		sec = d.c.Others(p)[1]
	}
	ctx := context.Background()
	// A stalled w:"majority" write blocks; the 2 s deadline is the stall as a client sees it.
	coll := d.c.MajorityClient(t).Database("drill").Collection("psa", options.Collection().SetWriteConcern(writeconcern.Majority()))
	write := func(i int) error {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := coll.InsertOne(wctx, bson.D{{Key: "_id", Value: i}})
		return err
	}
	if err := write(0); err != nil {
		t.Fatal(err)
	}

	t0 := time.Now()
	if err := sec.Kill(); err != nil {
		t.Fatal(err)
	}
	d.c.Timeline.Zero("SIGKILL of the secondary %s; it stays down", sec)
	var stalled bool
	var resumed time.Time
	i := 1
	harness.WaitFor(t, 3*time.Minute, "w:majority writes flowing again", func(ctx context.Context) error {
		i++
		err := write(i)
		if err != nil {
			stalled = true
			return err
		}
		if !stalled && time.Since(t0) < 5*time.Second {
			return errors.New("not stalled yet")
		}
		resumed = time.Now()
		return nil
	})
	d.c.Timeline.Mark("w:majority writes flow again")
	if !stalled {
		t.Errorf("w:majority writes never stalled after the secondary was lost")
	}
	member := func(ctx context.Context) (votes int, prio float64, tagged bool, err error) {
		raw, err := p.Command(ctx, bson.D{{Key: "replSetGetConfig", Value: 1}})
		if err != nil {
			return 0, 0, false, err
		}
		var cfg struct {
			Config struct {
				Members []struct {
					Host     string            `bson:"host"`
					Votes    int               `bson:"votes"`
					Priority float64           `bson:"priority"`
					Tags     map[string]string `bson:"tags"`
				} `bson:"members"`
			} `bson:"config"`
		}
		if err := bson.Unmarshal(raw, &cfg); err != nil {
			return 0, 0, false, err
		}
		for _, m := range cfg.Config.Members {
			if m.Host == sec.HostPort() {
				_, tagged = m.Tags[recovery.PSADemotedTag]
				return m.Votes, m.Priority, tagged, nil
			}
		}
		return 0, 0, false, fmt.Errorf("%s not in the config", sec)
	}
	if v, pr, tagged, err := member(ctx); err != nil || v != 0 || pr != 0 || !tagged {
		t.Fatalf("after the mitigation %s has votes %d priority %v tagged %v (%v)", sec, v, pr, tagged, err)
	}

	restarted := time.Now()
	if err := sec.Start(ctx); err != nil {
		t.Fatal(err)
	}
	d.c.Timeline.Mark("%s restarted", sec)
	var votesAt, prioAt time.Time
	harness.WaitFor(t, 3*time.Minute, sec.String()+"'s votes and priority restored", func(ctx context.Context) error {
		v, pr, tagged, err := member(ctx)
		if err != nil {
			return err
		}
		if v == 1 && votesAt.IsZero() {
			votesAt = time.Now()
			if pr != 0 {
				return harness.Abort(fmt.Errorf("votes and priority restored in one reconfig (priority %v)", pr))
			}
		}
		if v != 1 || pr == 0 || tagged {
			return fmt.Errorf("%s: votes %d priority %v tagged %v", sec, v, pr, tagged)
		}
		prioAt = time.Now()
		return nil
	})
	d.c.Timeline.Mark("%s: votes and priority restored", sec)
	if err := write(1 << 20); err != nil {
		t.Errorf("w:majority write after the restore: %v", err)
	}
	var actions []string
	for _, r := range cars.AllAudit(t) {
		if r.Result == supervisor.ResultExecuted && len(r.Decision.Action) > 4 && r.Decision.Action[:4] == "psa_" {
			actions = append(actions, fmt.Sprintf("%s by %s (%s)", r.Decision.Action, r.Sidecar, r.Reason))
		}
	}
	if len(actions) != 3 {
		t.Errorf("PSA reconfigs audited: %v, want demote, restore_votes, restore_priority", actions)
	}
	fp := d.WaitHealthy(t, drillRejoinTimeout)
	if fp != p {
		t.Errorf("the primary changed: %s -> %s", p, fp)
	}

	rep := newDrillReport(fmt.Sprintf("Drill 12: PSA, the secondary lost and back (recovery.psa_lost_after %s)", lost))
	rep.line("- w:majority writes stalled for %.1fs after the secondary was lost (the recovery issue asks for <= 60 s)", resumed.Sub(t0).Seconds())
	rep.line("- restart -> votes restored %.1fs, -> priority restored %.1fs (asks for <= 60 s after catch-up)", votesAt.Sub(restarted).Seconds(), prioAt.Sub(restarted).Seconds())
	rep.line("- audited: %v", actions)
	rep.publish(t)
}
