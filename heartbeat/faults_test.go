package heartbeat

import (
	"testing"
	"testing/synctest"
	"time"
)

func TestNoRelaysWhileAllLinksUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 5, nil)
		defer c.stop()
		waitFor(t, 5*time.Second, "converged", func() bool { return c.allFresh(time.Second) })
		time.Sleep(3 * time.Second)
		before := make([]float64, len(c.nodes))
		for i, nd := range c.nodes {
			before[i], _ = metricValue(t, nd.reg, "rsguard_heartbeat_views_sent_total", "kind", "relay")
		}
		time.Sleep(30 * time.Second)
		for i, nd := range c.nodes {
			after, _ := metricValue(t, nd.reg, "rsguard_heartbeat_views_sent_total", "kind", "relay")
			if after != before[i] {
				t.Errorf("%s relayed %v views in 30s of a healthy cluster", nd.id, after-before[i])
			}
			own, _ := metricValue(t, nd.reg, "rsguard_heartbeat_views_sent_total", "kind", "own")
			if own == 0 {
				t.Errorf("%s sent no views", nd.id)
			}
		}
		if !c.allFresh(time.Second) {
			t.Error("views went stale in a healthy cluster")
		}
	})
}

func TestKillAgesOutAndRevive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 5, nil)
		defer c.stop()
		waitFor(t, 5*time.Second, "converged", func() bool { return c.allFresh(time.Second) })
		time.Sleep(2 * time.Second)
		s1, s3 := c.node("s1"), c.node("s3")
		events := drain(s1.g.Events())

		c.net.Kill(s3.addr)
		killed := time.Now()
		// The others see s3's view age past any sane freshness bound at once...
		waitFor(t, 3*time.Second, "s3 view stale at s1", func() bool { return s1.g.Views()["s3"].Age > 1500*time.Millisecond })
		// ...and memberlist declares it dead a few seconds later.
		took := waitFor(t, 15*time.Second, "s3 dead everywhere", func() bool {
			for _, nd := range c.nodes {
				if nd != s3 && (status(nd, "s3") != StatusDead || nd.g.Views()["s3"].Alive) {
					return false
				}
			}
			return true
		})
		t.Logf("s3 declared dead %v after the kill (fake time)", time.Since(killed))
		_ = took
		// The isolated sidecar sees everybody else's view age out: it must never think it has a quorum.
		for _, nd := range c.nodes {
			if nd != s3 && fresh(s3, nd.id, 2*time.Second) {
				t.Errorf("isolated s3 still holds a fresh view of %s", nd.id)
			}
		}
		if ev := events(); !hasEvent(ev, EventLeave, "s3", StatusDead) {
			t.Errorf("s1 got no leave event for s3: %+v", ev)
		}

		c.net.Revive(s3.addr)
		took = waitFor(t, 20*time.Second, "s3 back", func() bool {
			for _, nd := range c.nodes {
				if nd != s3 && status(nd, "s3") != StatusAlive {
					return false
				}
			}
			return c.allFresh(time.Second)
		})
		t.Logf("s3 alive and fresh again %v after revival", took)
		if ev := events(); !hasEvent(ev, EventJoin, "s3", StatusAlive) {
			t.Errorf("s1 got no join event for s3: %+v", ev)
		}
	})
}

func TestCutPairIsBridgedByRelays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, nil)
		defer c.stop()
		waitFor(t, 5*time.Second, "converged", func() bool { return c.allFresh(time.Second) })
		time.Sleep(2 * time.Second)
		s1, s2 := c.node("s1"), c.node("s2")

		c.net.Cut(s1.addr, s2.addr)
		// Let the cut bite: relays start once a direct copy is 2.5 push intervals old.
		time.Sleep(5 * time.Second)
		for range 40 { // 20 s of samples
			for _, pair := range [][2]*node{{s1, s2}, {s2, s1}} {
				v := pair[0].g.PeerViews()[pair[1].id]
				if !v.Alive || v.Age > 2*time.Second {
					t.Fatalf("%s: view of %s alive=%v age=%v across a cut pair", pair[0].id, pair[1].id, v.Alive, v.Age)
				}
				if v.Direct || v.Via != "s3" || v.DirectAge < 5*time.Second {
					t.Fatalf("%s: view of %s direct=%v via=%q directAge=%v, want relayed by s3",
						pair[0].id, pair[1].id, v.Direct, v.Via, v.DirectAge)
				}
			}
			time.Sleep(500 * time.Millisecond)
		}
		if got, _ := metricValue(t, c.node("s3").reg, "rsguard_heartbeat_views_sent_total", "kind", "relay"); got == 0 {
			t.Error("s3 relayed nothing")
		}
		if got, _ := metricValue(t, s1.reg, "rsguard_heartbeat_views_received_total", "path", "relayed"); got == 0 {
			t.Error("s1 received no relayed views")
		}

		c.net.Heal(s1.addr, s2.addr)
		waitFor(t, 3*time.Second, "direct again", func() bool {
			a, b := s1.g.PeerViews()["s2"], s2.g.PeerViews()["s1"]
			return a.Direct && b.Direct && a.DirectAge < time.Second && b.DirectAge < time.Second
		})
	})
}

// A minority partition sees the majority's views age out and vice versa; after a partition longer
// than memberlist's GossipToTheDeadTime the join loop merges the two sides again.
func TestLongPartitionHeals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 5, nil)
		defer c.stop()
		waitFor(t, 5*time.Second, "converged", func() bool { return c.allFresh(time.Second) })
		minority, majority := c.nodes[:2], c.nodes[2:]
		var left, right []string
		for _, n := range minority {
			left = append(left, n.addr)
		}
		for _, n := range majority {
			right = append(right, n.addr)
		}
		c.net.Partition(left, right)

		waitFor(t, 20*time.Second, "sides dead to each other", func() bool {
			for _, a := range minority {
				for _, b := range majority {
					if status(a, b.id) != StatusDead || status(b, a.id) != StatusDead {
						return false
					}
				}
			}
			return true
		})
		if !c.allFresh(time.Second, minority...) || !c.allFresh(time.Second, majority...) {
			t.Error("views inside a side went stale")
		}
		for _, a := range minority {
			for _, b := range majority {
				if fresh(a, b.id, 2*time.Second) || fresh(b, a.id, 2*time.Second) {
					t.Errorf("%s/%s still fresh across the partition", a.id, b.id)
				}
			}
		}
		time.Sleep(45 * time.Second) // beyond GossipToTheDeadTime: only the join loop can merge now

		c.net.HealAll()
		took := waitFor(t, 30*time.Second, "merged again", func() bool { return c.allFresh(time.Second) })
		t.Logf("merged %v after healing a 60s partition", took)
		for _, nd := range c.nodes {
			for _, m := range nd.g.Members() {
				if m.Status != StatusAlive {
					t.Errorf("%s sees %s %v after heal", nd.id, m.ID, m.Status)
				}
			}
		}
	})
}

func TestLeaveIsSeenAsLeft(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, nil)
		defer c.stop()
		waitFor(t, 5*time.Second, "converged", func() bool { return c.allFresh(time.Second) })
		s3 := c.node("s3")
		if err := s3.g.Leave(time.Second); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Second, "s3 left", func() bool {
			return status(c.node("s1"), "s3") == StatusLeft && status(c.node("s2"), "s3") == StatusLeft
		})
		if err := s3.g.Shutdown(); err != nil {
			t.Fatal(err)
		}
		if err := s3.g.Leave(time.Second); err != nil { // after Shutdown: a no-op, not memberlist's panic
			t.Fatal(err)
		}
		if _, open := <-s3.g.Events(); open {
			// drain whatever was buffered; the channel must end closed
			for range s3.g.Events() {
			}
		}
	})
}

// drain collects events in the background; calling the returned func returns those seen so far.
func drain(ch <-chan MemberEvent) func() []MemberEvent {
	var got []MemberEvent
	return func() []MemberEvent {
		for {
			select {
			case ev, ok := <-ch:
				if !ok {
					return got
				}
				got = append(got, ev)
			default:
				return got
			}
		}
	}
}

func hasEvent(evs []MemberEvent, typ EventType, id string, st MemberStatus) bool {
	for _, ev := range evs {
		if ev.Type == typ && ev.Member.ID == id && ev.Member.Status == st {
			return true
		}
	}
	return false
}
