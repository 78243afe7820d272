package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/e2e/harness"
)

// badInputHold is how long a misconfigured sidecar must keep running, unready and idle. With the
// primary killed at its start, correctly configured sidecars would have stepped a secondary up
// within it (drill 1: ~1.5 s) and MongoDB's own election (10 s) would not have happened yet.
const badInputHold = 6 * time.Second

// TestDrillSidecarBadInput: sidecars with bad input against real processes.
//
//   - wrong replica set name (mongod says rs0, the config says rsX): every sidecar keeps running,
//     /readyz answers 503 with a reason naming both names, and none acts, even when the primary
//     is then SIGKILLed;
//   - unreachable seeds (the only sidecar started, its peers never are): it keeps running and
//     /readyz answers 503 saying gossip has not settled.
func TestDrillSidecarBadInput(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	d := newDrillSet(t, 3, 0, 0)
	defer d.c.Timeline.Log(t)
	ctx := context.Background()
	rep := newDrillReport("Drill 7: bad input at the sidecar level")

	t.Run("wrong-set-name", func(t *testing.T) {
		cars := newSidecars(t, supBin, "rs0", d.data, nil, sidecarOpts{ReplicaSet: "rsX"})
		cars.Start(t)
		defer killSidecars(cars)
		var why string
		harness.WaitFor(t, 30*time.Second, "every sidecar settled and unready, naming both set names", func(ctx context.Context) error {
			for _, c := range cars.cars {
				code, body, err := cars.Ready(ctx, c)
				if err != nil {
					return err
				}
				// Gossip settled: the set names are the only thing wrong.
				if code != http.StatusServiceUnavailable || !strings.Contains(body, `"rs0"`) || !strings.Contains(body, `"rsX"`) ||
					strings.Contains(body, "gossip has not settled") {
					return fmt.Errorf("%s: /readyz %d: %q", c.ID, code, body)
				}
				why = body
			}
			return nil
		})
		p := d.WaitHealthy(t, drillRejoinTimeout)
		d.c.Timeline.Mark("SIGKILL primary %s under misconfigured sidecars", p)
		t0 := time.Now()
		if err := p.Kill(); err != nil {
			t.Fatal(err)
		}
		// Readiness flips are collected (with the sidecar's status as evidence) and reported
		// after the hold, which goes on to check that nobody acts.
		flipped := map[string]string{}
		holdWhile(t, badInputHold, "misconfigured sidecars running, unready, idle", func(ctx context.Context) error {
			for _, c := range cars.cars {
				if !c.Running() {
					return fmt.Errorf("sidecar %s exited (%s)", c.ID, c.Proc.ExitState())
				}
				code, body, err := cars.Ready(ctx, c)
				if err != nil {
					return err
				}
				if _, seen := flipped[c.ID]; code != http.StatusServiceUnavailable && !seen {
					raw, _ := cars.StatusJSON(ctx, c)
					flipped[c.ID] = fmt.Sprintf("+%s /readyz %d %q; /v1/status %s", secs(time.Since(t0)), code, body, raw)
				}
			}
			if ex := cars.Executed(t, t0); len(ex) > 0 {
				return fmt.Errorf("a misconfigured sidecar acted: %s", describeActions(ex, t0))
			}
			if np, _, err := d.newPrimary(ctx, p, 200*time.Millisecond); err == nil {
				return fmt.Errorf("%s became primary %s after the kill: someone stepped it up", np, secs(time.Since(t0)))
			}
			return nil
		})
		for id, ev := range flipped {
			t.Errorf("misconfigured sidecar %s (config rsX, mongod rs0) became ready after its mongod was killed: %s", id, ev)
		}
		for _, c := range cars.cars { // the last word, after the hold
			code, body, err := cars.Ready(ctx, c)
			if _, seen := flipped[c.ID]; err == nil && code != http.StatusServiceUnavailable && !seen {
				raw, _ := cars.StatusJSON(ctx, c)
				t.Errorf("misconfigured sidecar %s (config rsX, mongod rs0) is ready %s after its set's primary was killed: /readyz %d %q; /v1/status %s",
					c.ID, secs(time.Since(t0)), code, body, raw)
			}
		}
		pcar := cars.ByHost(p)
		code, body, _ := cars.Ready(ctx, pcar)
		rep.note("wrong set name: %s after the kill, the killed primary's sidecar %s answers /readyz %d %q", secs(time.Since(t0)), pcar.ID, code, body)
		r, err := cars.Status(ctx, pcar)
		if err != nil {
			t.Fatal(err)
		}
		if len(flipped) == 0 && (r.Ready || len(r.NotReady) == 0) {
			t.Errorf("%s: /v1/status ready %v, not_ready %q", r.Sidecar, r.Ready, r.NotReady)
		}
		rep.note("wrong set name: all sidecars kept running, before the kill /readyz 503 %q; primary SIGKILLed: no action for %s (analysis %s, reason %s)",
			why, badInputHold, r.Analysis.Kind, r.Decision.Reason)
		if err := p.Start(ctx); err != nil { // the set elects by itself in the background
			t.Fatal(err)
		}
	})

	t.Run("unreachable-seeds", func(t *testing.T) {
		cars := newSidecars(t, supBin, "rs0", d.data, nil, sidecarOpts{})
		lone := cars.cars[0]
		cars.StartOne(t, lone) // its seeds, the other sidecars, are never started
		defer killSidecars(cars)
		var why string
		harness.WaitFor(t, 30*time.Second, "the lone sidecar answering /readyz 503", func(ctx context.Context) error {
			code, body, err := cars.Ready(ctx, lone)
			if err != nil {
				return err
			}
			if code != http.StatusServiceUnavailable || !strings.Contains(body, "gossip") {
				return fmt.Errorf("/readyz %d: %q", code, body)
			}
			why = body
			return nil
		})
		holdWhile(t, badInputHold, "a sidecar with unreachable seeds running and unready", func(ctx context.Context) error {
			if !lone.Running() {
				return fmt.Errorf("sidecar %s exited (%s)", lone.ID, lone.Proc.ExitState())
			}
			code, body, err := cars.Ready(ctx, lone)
			if err != nil {
				return err
			}
			if code != http.StatusServiceUnavailable {
				return fmt.Errorf("/readyz %d: %q", code, body)
			}
			return nil
		})
		rep.note("unreachable seeds: the sidecar kept running for %s, /readyz 503 %q", badInputHold, why)
	})
	rep.publish(t)
}

// killSidecars SIGKILLs the running sidecars of cars.
func killSidecars(cars *sidecarSet) {
	for _, c := range cars.cars {
		if c.Running() {
			_ = c.Proc.Kill()
		}
	}
}
