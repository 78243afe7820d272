package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/drill"
	"github.com/rsguard/rsguard/e2e/harness"
)

// Drill 14: planned switchover through the CLI. Three data members with sidecars and an arbiter
// sidecar; a w:"majority" writer inserts continuously (a 5 ms pause between inserts, retryable
// writes on) while `supervisor switchover --to <secondary>` is asked of a sidecar that is not the
// primary's. Each run hands the primary to the next member. Measured per run: the writes' pause
// (the longest gap between two consecutive acknowledged inserts while the switchover runs, a
// retried insert counting from its start) and the CLI's wall time. After the runs every
// acknowledged insert is read back from the last primary: none may be lost. Runs:
// RSGUARD_DRILL_RUNS (1 in the default suite, 10 under `make drill`). Each run is followed by
// MongoDB alone doing the same job on the same set: replSetStepDown on the primary (rs.stepDown),
// whose election handoff picks the new primary; its pause is measured the same way, once the
// primary has heard every member since the switchover (a settled set).
func TestDrillSwitchover(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{})
	defer killSidecars(cars)
	cars.Start(t)
	cars.WaitReady(t, drillSettleTimeout)
	tokenFile := filepath.Join(filepath.Dir(cars.cars[0].Config), "admin.token")
	w := startWorkloadEvery(t, d, "switchover", 5*time.Millisecond)
	runs := drillRuns(t)
	rep := newDrillReport("Drill 14: planned switchover through the CLI (`supervisor switchover --to`)",
		"writes paused (longest gap between acknowledged w:majority inserts)", "switchover command, wall time",
		"MongoDB alone (replSetStepDown): writes paused")

	for run := 1; run <= runs; run++ {
		p := d.WaitHealthy(t, drillRejoinTimeout)
		target := d.data[(slices.Index(d.data, p)+1)%len(d.data)]
		// Ask a sidecar that is not the primary's: the request travels to its executor.
		ask := cars.ByHost(target)
		cli := func(args ...string) ([]byte, error) {
			full := append([]string{}, args...)
			full = append(full, "--addr", ask.HTTP, "--token-file", tokenFile, "--actor", "e2e-drill", "-o", "json")
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			return exec.CommandContext(ctx, supBin, full...).Output()
		}
		// The member stepped down two runs ago may still be inside its stepdown period: the
		// dry run says so (refused_target_frozen); wait it out.
		harness.WaitFor(t, 60*time.Second, "a dry run of the switchover to "+target.String()+" that plans it", func(context.Context) error {
			out, err := cli("switchover", "--to", target.HostPort(), "--dry-run")
			if err != nil {
				return fmt.Errorf("dry run: %v: %s", err, out)
			}
			var res api.ActionResult
			if err := json.Unmarshal(out, &res); err != nil || res.State != api.StatePlanned {
				return fmt.Errorf("dry run: %v %s", err, out)
			}
			return nil
		})
		start := time.Now()
		d.c.Timeline.Mark("run %d: supervisor switchover --to %s (asked of %s)", run, target, ask.ID)
		out, err := cli("switchover", "--to", target.HostPort())
		end := time.Now()
		var res api.ActionResult
		if jerr := json.Unmarshal(out, &res); err != nil || jerr != nil || res.State != api.StateDone {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				out = append(out, ee.Stderr...)
			}
			t.Fatalf("run %d: switchover to %s: %v: %s", run, target, err, out)
		}
		d.c.Timeline.Mark("run %d: switchover done (%s) in %dms by %s", run, res.Reason, res.DurationMs, res.Executor)
		np, _, err := d.newPrimary(context.Background(), p, drillRejoinTimeout)
		if err != nil || np != target {
			t.Fatalf("run %d: new primary %v (%v), want %s", run, np, err, target)
		}
		if _, err := w.waitAckAfter(context.Background(), end, 10*time.Second); err != nil {
			t.Fatalf("run %d: no write acknowledged after the switchover: %v", run, err)
		}
		gap := drill.LongestGap(w.Rec.Ops(), drill.OpMajority, start, end)
		rep.s("writes paused (longest gap between acknowledged w:majority inserts)").add(gap)
		rep.s("switchover command, wall time").add(end.Sub(start))
		t.Logf("run %d: %s -> %s, writes paused %s, command %s", run, p, target, gap, end.Sub(start).Round(time.Millisecond))
		for _, st := range res.Steps {
			t.Logf("run %d:   %-13s %-17s %s", run, st.Do, st.Host, st.Result)
		}

		// MongoDB alone, same set, same writer: the primary told to step down as an operator
		// would by hand (rs.stepDown(30) with secondaryCatchUpPeriodSecs 10); mongod's election
		// handoff picks the new primary.
		p = d.WaitHealthy(t, drillRejoinTimeout)
		// The switchover froze and unfroze a member; mongod learns a member's electability from
		// its heartbeats (every 2 s), and its stepdown waits for an electable caught-up
		// secondary. Start once the primary has heard every member since: as an operator's
		// rs.stepDown() would find a settled set.
		harness.WaitFor(t, 30*time.Second, "a heartbeat from every member since the switchover", func(ctx context.Context) error {
			raw, err := p.Command(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}})
			if err != nil {
				return err
			}
			var st struct {
				Members []struct {
					Name          string    `bson:"name"`
					Self          bool      `bson:"self"`
					LastHeartbeat time.Time `bson:"lastHeartbeat"`
				} `bson:"members"`
			}
			if err := bson.Unmarshal(raw, &st); err != nil {
				return err
			}
			for _, m := range st.Members {
				if !m.Self && !m.LastHeartbeat.After(end) {
					return fmt.Errorf("last heartbeat to %s at %s", m.Name, m.LastHeartbeat.Format(time.RFC3339Nano))
				}
			}
			return nil
		})
		start = time.Now()
		d.c.Timeline.Mark("run %d: replSetStepDown 30 on %s (MongoDB alone)", run, p)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		_, err = p.Command(ctx, bson.D{{Key: "replSetStepDown", Value: 30}, {Key: "secondaryCatchUpPeriodSecs", Value: 10}})
		cancel()
		if err != nil && !mongo.IsNetworkError(err) {
			t.Fatalf("run %d: replSetStepDown on %s: %v", run, p, err)
		}
		np, _, err = d.newPrimary(context.Background(), p, drillRejoinTimeout)
		if err != nil {
			t.Fatalf("run %d: no new primary after replSetStepDown on %s: %v", run, p, err)
		}
		end = time.Now()
		if _, err := w.waitAckAfter(context.Background(), end, 10*time.Second); err != nil {
			t.Fatalf("run %d: no write acknowledged after the native stepdown: %v", run, err)
		}
		gap = drill.LongestGap(w.Rec.Ops(), drill.OpMajority, start, end)
		rep.s("MongoDB alone (replSetStepDown): writes paused").add(gap)
		t.Logf("run %d native: %s -> %s, writes paused %s", run, p, np, gap)
	}
	last := d.WaitHealthy(t, drillRejoinTimeout)
	acked := w.verify(t, last)
	rep.note("%d runs; %d acknowledged w:majority inserts, none lost (read back from %s).", runs, acked, last)
	rep.note("The pause is measured from the client: the longest time between two consecutive acknowledged inserts while the command ran (an insert the stepdown interrupts is retried by the driver and counts from its first attempt).")
	rep.note("The command's wall time includes waiting, before writes stop, for the primary's next heartbeat from the target (up to 2 s, heartbeatIntervalMillis): mongod's stepdown waits for a caught-up secondary it believes electable, and it learns that a member the previous switchover froze and unfroze is electable again only from a heartbeat.")
	rep.note("Writes paused: median %s with rsguard, %s with MongoDB's own replSetStepDown; what rsguard adds is the choice of the new primary, the catch-up check before writes stop, any sidecar taking the request, and the audit trail, history and dry run.",
		secs(rep.s("writes paused (longest gap between acknowledged w:majority inserts)").median()), secs(rep.s("MongoDB alone (replSetStepDown): writes paused").median()))

	// The history has each switchover once, whichever sidecar is asked.
	out, err := exec.Command(supBin, "history", "--kind", api.EventAction, "--addr", cars.cars[0].HTTP,
		"--token-file", tokenFile, "-o", "json").Output()
	if err != nil {
		t.Fatalf("supervisor history: %v: %s", err, out)
	}
	var hist api.History
	if err := json.Unmarshal(out, &hist); err != nil {
		t.Fatalf("supervisor history -o json: %v: %s", err, out)
	}
	seen := map[string]int{}
	for _, ev := range hist.Events {
		if ev.Request != nil && ev.Request.Action == api.ActionSwitchover && ev.Request.State == api.StateDone {
			seen[ev.ID]++
		}
	}
	if len(seen) != runs {
		t.Errorf("history lists %d switchovers, want %d: %s", len(seen), runs, out)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("history lists %s %d times", id, n)
		}
	}
	rep.publish(t)
}
