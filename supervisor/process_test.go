package supervisor

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo/mongotest"
	"github.com/rsguard/rsguard/recovery"
)

// fakeController counts Start and Stop; Stop takes its host down in the world, Start brings it
// back, and crash makes the process exit as a kill would.
type fakeController struct {
	w    *world
	host string

	mu      sync.Mutex
	starts  int
	stops   int
	startAt time.Time // the last Start
	stopAt  time.Time // the last Stop
	running bool
	exits   chan recovery.Exit
}

func newFakeController(w *world, host string) *fakeController {
	return &fakeController{w: w, host: host, exits: make(chan recovery.Exit, 16)}
}

func (f *fakeController) Start(context.Context) error {
	f.mu.Lock()
	f.starts++
	f.running, f.startAt = true, time.Now()
	f.mu.Unlock()
	f.w.revive(f.host)
	return nil
}

func (f *fakeController) Stop(context.Context) error {
	f.mu.Lock()
	f.stops++
	f.stopAt = time.Now()
	was := f.running
	f.running = false
	f.mu.Unlock()
	f.w.kill(f.host)
	if was {
		f.exits <- recovery.Exit{At: time.Now(), Wanted: true}
	}
	return nil
}

func (f *fakeController) Process() recovery.Process {
	f.mu.Lock()
	defer f.mu.Unlock()
	return recovery.Process{Known: true, Running: f.running}
}

func (f *fakeController) Exits() <-chan recovery.Exit { return f.exits }

func (f *fakeController) counts() (starts, stops int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts, f.stops
}

// controllerOf is the Options.Controller of sidecar id: its fake, or none.
func (c *cluster) controllerOf(id string) recovery.Controller {
	if f := c.ctrls[id]; f != nil {
		return f
	}
	return nil
}

// newClusterWithControllers is newCluster where every data sidecar owns its mongod through a fake
// controller.
func newClusterWithControllers(t *testing.T, w *world, extra string) (*cluster, map[string]*fakeController) {
	t.Helper()
	ctrls := map[string]*fakeController{}
	for _, m := range threeData {
		if m.host != "" {
			ctrls[m.id] = newFakeController(w, m.host)
		}
	}
	c := &cluster{t: t, w: w, ctrls: ctrls}
	c = newClusterInto(t, c, threeData, extra)
	return c, ctrls
}

// The must-not-fire case first: a healthy set whose sidecars own their mongods. Each sidecar
// starts its mongod once, none is ever stopped, and stopping the sidecars leaves them running.
func TestControllerHealthySetStartsOnceAndNeverStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c, ctrls := newClusterWithControllers(t, w, "")
		c.waitHealthy(h1)
		time.Sleep(30 * time.Second)
		c.stop()
		for id, f := range ctrls {
			if starts, stops := f.counts(); starts != 1 || stops != 0 {
				t.Errorf("%s: %d starts, %d stops; want 1 start and no stop (the sidecar leaves its mongod running)", id, starts, stops)
			}
		}
		if n := c.actionCalls(); n != 0 {
			t.Errorf("%d actions on a healthy set", n)
		}
	})
}

// A fence goes through the controller, which keeps the mongod down (no shutdown command, one
// Stop) until a newer-term primary has been healthy for the election quiet period: then
// recovery restarts it, audited, and it rejoins.
func TestFenceStopsThroughTheController(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h3)
		w.optime[h2] = w.optime[h3]
		w.keepStale = true
		c, ctrls := newClusterWithControllers(t, w, "failover:\n  fence_after: 5s\n")
		defer c.stop()
		c.waitHealthy(h3)

		w.failProbes(h3, mongotest.Timeout())
		waitFor(t, 30*time.Second, "step-up of h2", func() bool { return w.calls(h2, mongotest.OpStepUp) > 0 })
		waitFor(t, 40*time.Second, "fence of h3", func() bool { _, stops := ctrls["c"].counts(); return stops > 0 })
		waitFor(t, 15*time.Second, "healthy on h2", func() bool {
			a := c.status("a").Analysis
			return a.Kind == election.Healthy && a.Primary == h2
		})
		if starts, _ := ctrls["c"].counts(); starts != 1 {
			t.Errorf("the fenced mongod was restarted before the new primary was healthy")
		}
		waitFor(t, 60*time.Second, "the restart of the fenced mongod", func() bool { starts, _ := ctrls["c"].counts(); return starts == 2 })
		f := ctrls["c"]
		f.mu.Lock()
		after := f.startAt.Sub(f.stopAt)
		f.mu.Unlock()
		if after < 12*time.Second {
			t.Errorf("restarted %s after the fence, before failover.election_quiet (12s)", after)
		}
		if n := w.calls(h3, mongotest.OpShutdown); n != 0 {
			t.Errorf("%d shutdown commands to h3: the fence must go through the controller", n)
		}
		if recs := c.findAudit("c", ActionRestartFenced, ReasonFenceOver); len(recs) != 1 || recs[0].Analysis.Primary != h2 {
			t.Errorf("restart audit: %+v", c.audit("c"))
		}
		if recs := c.findAudit("c", election.Fence, election.ReasonStalePrimaryFence); len(recs) != 1 || recs[0].Result != ResultExecuted {
			t.Errorf("c's audit: %+v", c.audit("c"))
		}
	})
}
