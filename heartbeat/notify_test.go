package heartbeat

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// drained reports whether an Updates signal was pending, and consumes it.
func drained(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Updates fires when another sidecar's view changes, as soon as PushNow delivers it, and stays
// quiet while the same view is merely re-pushed every interval (the steady heartbeat is no news).
func TestUpdatesSignalNewContentOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, nil)
		defer c.stop()
		waitFor(t, 5*time.Second, "all views fresh", func() bool { return c.allFresh(time.Second) })
		time.Sleep(3 * time.Second) // past start-up copies
		s1, s2 := c.nodes[0], c.nodes[1]
		drained(s2.g.Updates())

		// The steady state: several push intervals of unchanged views.
		time.Sleep(4 * DefaultPushInterval)
		synctest.Wait()
		if drained(s2.g.Updates()) {
			t.Errorf("%s: Updates fired while no view changed", s2.id)
		}

		// A material change goes out with PushNow and is signalled with no tick in between.
		if err := s1.g.SetLocalView(dataView("s1", topology.StateSecondary, 9)); err != nil {
			t.Fatal(err)
		}
		s1.g.PushNow()
		synctest.Wait()
		if !drained(s2.g.Updates()) {
			t.Fatalf("%s: no Updates signal after %s pushed a new view", s2.id, s1.id)
		}
		if got := s2.g.Views()["s1"].View.Local.Term; got != 9 {
			t.Errorf("%s holds term %d of s1 when signalled, want 9", s2.id, got)
		}
		// Coalesced: however many copies (direct, relays, push-pull) arrive, one pending signal.
		time.Sleep(4 * DefaultPushInterval)
		synctest.Wait()
		if drained(s2.g.Updates()) {
			t.Errorf("%s: Updates fired again for copies of the same view", s2.id)
		}
	})
}

// A burst of PushNow calls (a flapping mongod, several changes in a row) coalesces: at most one
// push is pending, so the burst costs one or two pushes per peer, not one per call.
func TestPushNowBurstCoalesces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, nil)
		defer c.stop()
		waitFor(t, 5*time.Second, "all views fresh", func() bool { return c.allFresh(time.Second) })
		s1 := c.nodes[0]
		synctest.Wait()
		before, _ := metricValue(t, s1.reg, "rsguard_heartbeat_views_sent_total", "kind", "own")
		for i := range 100 {
			if err := s1.g.SetLocalView(dataView("s1", topology.StateSecondary, int64(10+i))); err != nil {
				t.Fatal(err)
			}
			s1.g.PushNow()
		}
		synctest.Wait() // no fake time passes: only the burst's pushes, no tick
		after, _ := metricValue(t, s1.reg, "rsguard_heartbeat_views_sent_total", "kind", "own")
		// How many pushes the burst takes depends on when the push loop gets scheduled between
		// calls (more often under -race), but never one per call: 100 calls, 2 peers.
		if sent := after - before; sent < 2 || sent > 20 {
			t.Errorf("a burst of 100 PushNow sent %v own views to 2 peers, want 2 to 20 (coalesced into at most 10 pushes)", sent)
		}
		for _, nd := range c.nodes[1:] {
			if got := nd.g.Views()["s1"].View.Local.Term; got != 109 {
				t.Errorf("%s holds term %d of s1 after the burst, want the last one (109)", nd.id, got)
			}
		}
	})
}
