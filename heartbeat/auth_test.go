package heartbeat

import (
	"encoding/json"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rsguard/rsguard/topology"
)

var members3 = []string{"s1", "s2", "s3"}

// newAuthBare is a bare Gossip (no memberlist) with a keyring and the configured ids s1..s3.
func newAuthBare(t *testing.T, id string, keys ...[]byte) *bare {
	t.Helper()
	b := &bare{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), reg: prometheus.NewRegistry()}
	opts, err := Options{NodeID: id, Keyring: keys, Members: members3, Clock: func() time.Time { return b.now }}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	b.Gossip = newGossip(slog.New(slog.DiscardHandler), b.reg, opts)
	return b
}

// signed is origin's envelope as the origin would send it, MAC'd with key (nil: no MAC).
func signed(t *testing.T, key []byte, origin string, seq uint64, term int64) *envelope {
	t.Helper()
	raw, err := json.Marshal(dataView(origin, topology.StateSecondary, term))
	if err != nil {
		t.Fatal(err)
	}
	e := &envelope{From: origin, Origin: origin, Gen: 1, Seq: seq, Seen: map[string]int64{"s1": 120, "s3": 80}, View: raw}
	if key != nil {
		e.MAC = viewMAC(deriveKey(t, key), e)
	}
	return e
}

func deriveKey(t *testing.T, k []byte) []byte {
	t.Helper()
	a := newViewAuth(nil, Options{Keyring: [][]byte{k}})
	return a.keys[0]
}

func deliver(t *testing.T, b *bare, e *envelope) {
	t.Helper()
	raw, err := encodeEnvelope(e)
	if err != nil {
		t.Fatal(err)
	}
	delegate{b.Gossip}.NotifyMsg(raw)
}

func rejected(t *testing.T, b *bare, reason string) float64 {
	t.Helper()
	v, _ := metricValue(t, b.reg, "rsguard_heartbeat_views_rejected_total", "reason", reason)
	return v
}

// Every way of claiming a view without proof is dropped, counted by reason, and leaves the held
// view alone; genuine copies, direct or relayed, and keys mid-rotation are accepted.
func TestViewAuthentication(t *testing.T) {
	k1, k2, wrong := key(1), key(2), key(3)
	b := newAuthBare(t, "s1", k1, k2)
	b.join("s1", "s2", "s3")
	term := func() int64 { return b.PeerViews()["s2"].View.Local.Term }

	deliver(t, b, signed(t, k1, "s2", 1, 1))
	if term() != 1 {
		t.Fatalf("a genuine direct view was not accepted: %+v", b.PeerViews()["s2"])
	}
	relayed := signed(t, k2, "s2", 2, 2) // signed with the second key: rotation
	relayed.From, relayed.AgeMs = "s3", 40
	deliver(t, b, relayed)
	if v := b.PeerViews()["s2"]; v.View.Local.Term != 2 || v.Direct || v.Via != "s3" {
		t.Fatalf("a genuine relayed view (second key) was not accepted: %+v", v)
	}

	tamper := func(e *envelope, f func(*envelope)) *envelope { f(e); return e }
	forged := []struct {
		name, reason string
		e            *envelope
	}{
		{"wrong key", rejectBadMAC, signed(t, wrong, "s2", 10, 9)},
		{"no MAC", rejectMissingMAC, signed(t, nil, "s2", 11, 9)},
		{"relay alters the view", rejectBadMAC, tamper(signed(t, k1, "s2", 12, 3), func(e *envelope) {
			e.From = "s3"
			e.View, _ = json.Marshal(dataView("s2", topology.StateDown, 9))
		})},
		{"relay bumps the version", rejectBadMAC, tamper(signed(t, k1, "s2", 13, 9), func(e *envelope) { e.From, e.Seq = "s3", 99 })},
		{"relay forges a goodbye", rejectBadMAC, tamper(signed(t, k1, "s2", 14, 9), func(e *envelope) { e.Bye = true })},
		{"relay edits what the origin saw", rejectBadMAC, tamper(signed(t, k1, "s2", 15, 9), func(e *envelope) { e.From, e.Seen = "s3", nil })},
		{"MAC of another origin", rejectBadMAC, tamper(signed(t, k1, "s3", 16, 9), func(e *envelope) {
			e.Origin, e.From = "s2", "s2"
			e.View, _ = json.Marshal(dataView("s2", topology.StateSecondary, 9))
		})},
		{"unknown origin", rejectUnknownOrigin, signed(t, k1, "s9", 17, 9)},
		{"unknown sender", rejectUnknownSender, tamper(signed(t, k1, "s2", 18, 9), func(e *envelope) { e.From = "s9" })},
	}
	for _, f := range forged {
		before, invalid := rejected(t, b, f.reason), 0.0
		invalid, _ = metricValue(t, b.reg, "rsguard_heartbeat_views_invalid_total")
		deliver(t, b, f.e)
		if got := rejected(t, b, f.reason); got != before+1 {
			t.Errorf("%s: rejected{reason=%s} went %v -> %v", f.name, f.reason, before, got)
		}
		if got, _ := metricValue(t, b.reg, "rsguard_heartbeat_views_invalid_total"); got != invalid+1 {
			t.Errorf("%s: views_invalid_total went %v -> %v", f.name, invalid, got)
		}
		if term() != 2 || b.PeerViews()["s2"].View.Local.State != topology.StateSecondary {
			t.Fatalf("%s: the forged view replaced the genuine one: %+v", f.name, b.PeerViews()["s2"])
		}
		if _, ok := b.Views()["s9"]; ok {
			t.Fatalf("%s: a view of an unknown sidecar is held", f.name)
		}
	}
	if got, _ := metricValue(t, b.reg, "rsguard_heartbeat_insecure"); got != 0 {
		t.Errorf("insecure gauge = %v with a keyring", got)
	}
}

// A relay forwards the origin's MAC (and goodbye flag) unchanged, so its copy verifies at the next
// sidecar; our own pushes are signed with the primary key.
func TestRelayCarriesTheOriginsMAC(t *testing.T) {
	k := key(1)
	relay := newAuthBare(t, "s3", k)
	relay.join("s1", "s2", "s3")
	bye := signed(t, k, "s2", 5, 4)
	bye.Bye = true
	bye.MAC = viewMAC(deriveKey(t, k), bye)
	deliver(t, relay, bye)

	relay.mu.Lock()
	fwd := relay.relayEnvelopeLocked(relay.views["s2"], relay.now)
	own := relay.ownEnvelopeLocked(relay.now)
	relay.mu.Unlock()
	if own != nil {
		t.Fatal("own envelope before SetLocalView")
	}
	dst := newAuthBare(t, "s1", k)
	dst.join("s1", "s2", "s3")
	deliver(t, dst, fwd)
	if v := dst.PeerViews()["s2"]; v.View.Local.Term != 4 || v.Via != "s3" {
		t.Fatalf("relayed copy refused: %+v (rejected bad_mac %v)", v, rejected(t, dst, rejectBadMAC))
	}
	if err := relay.SetLocalView(dataView("s3", topology.StateSecondary, 4)); err != nil {
		t.Fatal(err)
	}
	relay.mu.Lock()
	own = relay.ownEnvelopeLocked(relay.now)
	relay.mu.Unlock()
	deliver(t, dst, own)
	if _, ok := dst.Views()["s3"]; !ok || rejected(t, dst, rejectBadMAC) != 0 {
		t.Fatal("the relay's own signed push was refused")
	}
}

// Without a keyring (insecure, explicitly) views need no MAC, but unknown ids are still dropped
// and the gauge says the gossip is unauthenticated.
func TestInsecureAcceptsUnsignedViewsOfConfiguredIDs(t *testing.T) {
	b := &bare{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), reg: prometheus.NewRegistry()}
	opts, err := Options{NodeID: "s1", Insecure: true, Members: members3, Clock: func() time.Time { return b.now }}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	b.Gossip = newGossip(slog.New(slog.DiscardHandler), b.reg, opts)
	b.join("s1", "s2")
	deliver(t, b, signed(t, nil, "s2", 1, 3))
	deliver(t, b, signed(t, nil, "s9", 1, 3))
	if _, ok := b.Views()["s2"]; !ok {
		t.Error("insecure: an unsigned view of a configured sidecar was dropped")
	}
	if _, ok := b.Views()["s9"]; ok || rejected(t, b, rejectUnknownOrigin) != 1 {
		t.Error("insecure: a view of an unknown id was accepted")
	}
	if got, _ := metricValue(t, b.reg, "rsguard_heartbeat_insecure"); got != 1 {
		t.Errorf("insecure gauge = %v", got)
	}
}

// In a running cluster, a sidecar that holds the keyring but turns bad (or a bug in a relay)
// cannot make a peer accept a view its origin did not make, while genuine relays across a cut
// link still count; a node with the keyring but a name outside the configured ids never becomes
// a member.
func TestClusterDropsForgedRelays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, func(o *Options) { o.Members = members3 })
		defer c.stop()
		waitFor(t, 5*time.Second, "converged", func() bool { return c.allFresh(time.Second) })
		s1, s2, s3 := c.node("s1"), c.node("s2"), c.node("s3")
		c.net.Cut(s1.addr, s2.addr)
		waitFor(t, 10*time.Second, "s1 hears s2 through s3", func() bool {
			v := s1.g.PeerViews()["s2"]
			return !v.Direct && v.Via == "s3" && v.Age < time.Second
		})

		// s3 sends s1 forged copies of s2's view over its real memberlist.
		var to *memberlist.Node
		for _, n := range s3.g.ml.Members() {
			if n.Name == "s1" {
				to = n
			}
		}
		s3.g.mu.Lock()
		genuine := *s3.g.relayEnvelopeLocked(s3.g.views["s2"], time.Now())
		s3.g.mu.Unlock()
		dead, _ := json.Marshal(dataView("s2", topology.StateDown, 77))
		forge := func(f func(e *envelope)) []byte {
			e := genuine
			e.Seq += 1000 // newer than anything s1 holds
			f(&e)
			b, err := encodeEnvelope(&e)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		for range 5 {
			for _, b := range [][]byte{
				forge(func(e *envelope) { e.View = dead }),                             // tampered relay
				forge(func(e *envelope) { e.From, e.View = "s2", dead }),               // forged direct
				forge(func(e *envelope) { e.From = "intruder" }),                       // unknown sender
				forge(func(e *envelope) { e.Origin, e.MAC = "s2", []byte("garbage") }), // bad MAC
			} {
				if err := s3.g.ml.SendBestEffort(to, b); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(500 * time.Millisecond)
		}
		if v := s1.g.PeerViews()["s2"]; v.View.Local.Term == 77 || v.View.Local.State == topology.StateDown {
			t.Fatalf("s1 accepted a forged view of s2: %+v", v)
		}
		if got, _ := metricValue(t, s1.reg, "rsguard_heartbeat_views_rejected_total", "reason", rejectBadMAC); got < 15 {
			t.Errorf("bad_mac rejections = %v, want >= 15", got)
		}
		if got, _ := metricValue(t, s1.reg, "rsguard_heartbeat_views_rejected_total", "reason", rejectUnknownSender); got < 5 {
			t.Errorf("unknown_sender rejections = %v, want >= 5", got)
		}

		// A node with the keyring but not a configured id tries to join.
		c.tweak = func(o *Options) { o.Members = nil }
		c.nodes = append(c.nodes, c.add("intruder", addrOf(5)))
		time.Sleep(10 * time.Second)
		for _, nd := range []*node{s1, s2, s3} {
			for _, m := range nd.g.Members() {
				if m.ID == "intruder" {
					t.Errorf("%s lists the intruder as a member", nd.id)
				}
			}
			if _, ok := nd.g.Views()["intruder"]; ok {
				t.Errorf("%s holds a view of the intruder", nd.id)
			}
		}
		if got, _ := metricValue(t, s1.reg, "rsguard_heartbeat_members_refused_total"); got == 0 {
			t.Error("no refused member counted")
		}
		// Genuine relays still count after all that.
		if v := s1.g.PeerViews()["s2"]; v.Age > time.Second || v.Via != "s3" {
			t.Errorf("s1's view of s2 through s3: %+v", v)
		}
	})
}
