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
