package heartbeat

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// Timing bounds below are generous ceilings on fake time, not performance claims (DESIGN.md test
// tiers); they only catch a mechanism that does not work at all.

func TestConvergeAndPropagate(t *testing.T) {
	for _, n := range []int{3, 5} {
		t.Run(string(rune('0'+n))+"nodes", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCluster(t, n, nil)
				defer c.stop()

				took := waitFor(t, 5*time.Second, "all views fresh", func() bool { return c.allFresh(time.Second) })
				t.Logf("converged after %v (fake time)", took)
				time.Sleep(3 * time.Second) // past start-up, where relays and push-pull copies race pushes
				for _, nd := range c.nodes {
					if ms := nd.g.Members(); len(ms) != n {
						t.Errorf("%s knows %d members, want %d: %v", nd.id, len(ms), n, ms)
					}
					for id, v := range nd.g.PeerViews() {
						if v.View.SidecarID != id || v.View.Local.Host != id+".db:27017" {
							t.Errorf("%s holds view %+v under %s", nd.id, v.View, id)
						}
						if id != nd.id && !v.Direct {
							t.Errorf("%s: view of %s not direct with all links up (via %s)", nd.id, id, v.Via)
						}
					}
				}

				// A new view reaches everyone within about one push interval.
				s1 := c.nodes[0]
				if err := s1.g.SetLocalView(dataView("s1", topology.StatePrimary, 2)); err != nil {
					t.Fatal(err)
				}
				took = waitFor(t, 2*DefaultPushInterval, "new view everywhere", func() bool {
					for _, nd := range c.nodes[1:] {
						if nd.g.Views()["s1"].View.Local.State != topology.StatePrimary {
							return false
						}
					}
					return true
				})
				t.Logf("new view propagated after %v", took)

				// PushNow delivers without waiting for the tick: memnet packets take no time.
				if err := s1.g.SetLocalView(dataView("s1", topology.StateSecondary, 3)); err != nil {
					t.Fatal(err)
				}
				s1.g.PushNow()
				synctest.Wait()
				for _, nd := range c.nodes[1:] {
					if got := nd.g.Views()["s1"].View.Local.Term; got != 3 {
						t.Errorf("%s: after PushNow term = %d, want 3", nd.id, got)
					}
				}
			})
		})
	}
}
