package supervisor

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/recovery"
)

// crash makes the fake's mongod exit on its own, as a kill would.
func (f *fakeController) crash() {
	f.mu.Lock()
	f.running = false
	f.mu.Unlock()
	f.w.kill(f.host)
	f.exits <- recovery.Exit{At: time.Now(), Wanted: false}
}

// Must not fire first: a crash without a pause is left to the controller's restart (the sidecar
// never stops it). Then, paused, a secondary's mongod that exits is kept down (the controller's
// restart is cancelled with a Stop) and started once an operator resumes.
func TestPauseKeepsAnExitedMongodDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c, ctrls := newClusterWithControllers(t, w, "")
		defer c.stop()
		c.waitHealthy(h1)
		f := ctrls["c"]
		f.crash()
		time.Sleep(5 * time.Second)
		if starts, stops := f.counts(); stops != 0 || starts != 1 {
			t.Fatalf("without a pause: %d starts, %d stops; the sidecar must leave the restart to the controller", starts, stops)
		}
		_ = f.Start(context.Background()) // the controller's restart
		c.waitHealthy(h1)

		ctx := context.Background()
		if _, err := c.sups["a"].Act(ctx, api.ActionPause, "", api.ActionRequest{Actor: "dba", Why: "disk swap on h3"}, false); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the pause to reach c", func() bool { return c.sups["c"].paused() })
		f.crash()
		waitFor(t, 10*time.Second, "c to hold its mongod down", func() bool { _, stops := f.counts(); return stops == 1 })
		time.Sleep(10 * time.Second)
		if starts, _ := f.counts(); starts != 2 {
			t.Fatalf("%d starts while paused, want none after the crash", starts-2)
		}
		if _, err := c.sups["b"].Act(ctx, api.ActionResume, "", api.ActionRequest{Actor: "dba"}, false); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "c to start its mongod after the resume", func() bool { starts, _ := f.counts(); return starts == 3 })
		c.waitHealthy(h1)
	})
}
