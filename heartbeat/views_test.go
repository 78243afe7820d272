package heartbeat

import (
	"encoding/json"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rsguard/rsguard/topology"
)

// bare is a Gossip without memberlist and with a hand-driven clock.
type bare struct {
	*Gossip
	now time.Time
	reg *prometheus.Registry
}

func newBare(t *testing.T, id string) *bare {
	t.Helper()
	b := &bare{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), reg: prometheus.NewRegistry()}
	opts, err := Options{NodeID: id, Insecure: true, Clock: func() time.Time { return b.now }}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	b.Gossip = newGossip(slog.New(slog.DiscardHandler), b.reg, opts)
	return b
}

func (b *bare) join(ids ...string) {
	for _, id := range ids {
		eventDelegate{b.Gossip}.NotifyJoin(&memberlist.Node{Name: id, Addr: net.IPv4(127, 0, 0, 1), Port: 7946})
	}
}

func msg(t *testing.T, from, origin string, gen int64, seq uint64, age time.Duration, term int64) []byte {
	t.Helper()
	raw, err := json.Marshal(dataView(origin, topology.StateSecondary, term))
	if err != nil {
		t.Fatal(err)
	}
	b, err := encodeEnvelope(&envelope{From: from, Origin: origin, Gen: gen, Seq: seq, AgeMs: age.Milliseconds(), View: raw})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReceiveKeepsTheFreshestCopy(t *testing.T) {
	b := newBare(t, "s1")
	b.join("s1", "s2", "s3")
	d := delegate{b.Gossip}
	view := func() PeerView { return b.PeerViews()["s2"] }

	d.NotifyMsg(msg(t, "s2", "s2", 10, 5, 0, 1))
	if v := view(); !v.Alive || !v.Direct || v.Age != 0 || v.View.Local.Term != 1 {
		t.Fatalf("first direct copy: %+v", v)
	}
	b.now = b.now.Add(400 * time.Millisecond)
	d.NotifyMsg(msg(t, "s3", "s2", 10, 5, 300*time.Millisecond, 1)) // same version, later estimate
	d.NotifyMsg(msg(t, "s3", "s2", 10, 4, 0, 9))                    // older version
	if v := view(); v.Age != 400*time.Millisecond || !v.Direct || v.View.Local.Term != 1 {
		t.Fatalf("older copies changed the view: %+v", v)
	}
	d.NotifyMsg(msg(t, "s3", "s2", 10, 6, 100*time.Millisecond, 2)) // newer version, relayed
	if v := view(); v.Age != 100*time.Millisecond || v.Direct || v.Via != "s3" || v.View.Local.Term != 2 ||
		v.DirectAge != 400*time.Millisecond {
		t.Fatalf("relayed newer copy: %+v", v)
	}
	d.NotifyMsg(msg(t, "s2", "s2", 10, 6, 0, 2)) // the same version arrives directly, late
	if v := view(); v.Age != 100*time.Millisecond || !v.Direct || v.Via != "s2" || v.DirectAge != 0 {
		t.Fatalf("direct copy of the same version: %+v", v)
	}
	// A restart with a clock that went back: a lower generation, but straight from the origin.
	d.NotifyMsg(msg(t, "s2", "s2", 3, 1, 0, 7))
	if v := view(); v.View.Local.Term != 7 {
		t.Fatalf("restarted origin ignored: %+v", v)
	}
	d.NotifyMsg(msg(t, "s3", "s2", 2, 99, 0, 8)) // relayed copy of an older generation
	if v := view(); v.View.Local.Term != 7 {
		t.Fatalf("stale generation accepted via relay: %+v", v)
	}
	d.NotifyMsg(msg(t, "s2", "s1", 1, 1, 0, 1)) // our own view echoed back
	if _, ok := b.Views()["s1"]; ok {
		t.Error("own view filed as a peer's")
	}

	if got, _ := metricValue(t, b.reg, "rsguard_heartbeat_views_received_total", "path", "relayed"); got != 5 {
		t.Errorf("relayed received = %v, want 5", got)
	}
	if got, _ := metricValue(t, b.reg, "rsguard_heartbeat_views_invalid_total"); got != 0 {
		t.Errorf("invalid = %v", got)
	}
}

func TestReceiveRejectsGarbage(t *testing.T) {
	b := newBare(t, "s1")
	d := delegate{b.Gossip}
	good := msg(t, "s2", "s2", 1, 1, 0, 1)
	raw, _ := json.Marshal(dataView("s3", topology.StatePrimary, 1))
	liar, _ := encodeEnvelope(&envelope{From: "s2", Origin: "s2", Gen: 1, Seq: 2, View: raw})
	neg, _ := encodeEnvelope(&envelope{From: "s2", Origin: "s2", Gen: 1, Seq: 2, AgeMs: -5, View: raw})
	for _, m := range [][]byte{nil, {wireVersion}, append([]byte{99}, good[1:]...), []byte("\x01{not json"), liar, neg,
		[]byte(`` + "\x01" + `{"f":"s2","o":"s2","g":1,"s":3,"v":"oops"}`)} {
		d.NotifyMsg(m)
	}
	d.MergeRemoteState([]byte("junk"), false)
	if got, _ := metricValue(t, b.reg, "rsguard_heartbeat_views_invalid_total"); got != 8 {
		t.Errorf("invalid = %v, want 8", got)
	}
	if len(b.Views()) != 0 {
		t.Errorf("garbage filed: %+v", b.Views())
	}
}

func TestPushPullStateRoundTrip(t *testing.T) {
	a, b := newBare(t, "s1"), newBare(t, "s2")
	if err := a.SetLocalView(topology.MemberView{Mode: topology.ModeArbiter}); err != nil {
		t.Fatal(err)
	}
	if err := a.SetLocalView(topology.MemberView{SidecarID: "s9"}); err == nil {
		t.Error("SetLocalView accepted another sidecar's view")
	}
	delegate{a.Gossip}.NotifyMsg(msg(t, "s3", "s3", 1, 1, 0, 4))
	a.now = a.now.Add(700 * time.Millisecond)

	delegate{b.Gossip}.MergeRemoteState(delegate{a.Gossip}.LocalState(true), true)
	got := b.PeerViews()
	if v := got["s1"]; v.View.Mode != topology.ModeArbiter || v.Age != 0 || !v.Direct {
		t.Errorf("s1 via push-pull: %+v", v)
	}
	if v := got["s3"]; v.View.Local.Term != 4 || v.Age != 700*time.Millisecond || v.Direct || v.Via != "s1" {
		t.Errorf("s3 via push-pull: %+v", v)
	}
	if !b.merged {
		t.Error("merge not recorded")
	}
	if got, _ := metricValue(t, b.reg, "rsguard_heartbeat_views_received_total", "path", "pushpull"); got != 2 {
		t.Errorf("pushpull received = %v", got)
	}
}

func TestRelayRule(t *testing.T) {
	b := newBare(t, "s3")
	d := delegate{b.Gossip}
	push := b.opts.PushInterval
	d.NotifyMsg(msg(t, "s1", "s1", 1, 1, 0, 1))
	if r := b.relaysForLocked("s2", b.now); r != nil {
		t.Errorf("relayed to s2 before s2 reported: %d", len(r))
	}
	var seq uint64
	report := func(seen map[string]int64) {
		raw, _ := json.Marshal(dataView("s2", topology.StateSecondary, 1))
		seq++
		m, _ := encodeEnvelope(&envelope{From: "s2", Origin: "s2", Gen: 1, Seq: seq, Seen: seen, View: raw})
		d.NotifyMsg(m)
	}
	report(map[string]int64{"s1": 100})
	if r := b.relaysForLocked("s2", b.now); len(r) != 0 {
		t.Errorf("relayed although s2 hears s1: %d", len(r))
	}
	report(map[string]int64{}) // s2 never heard s1 directly
	r := b.relaysForLocked("s2", b.now)
	if len(r) != 1 || r[0].Origin != "s1" || r[0].From != "s3" {
		t.Fatalf("relays = %+v", r)
	}
	report(map[string]int64{"s1": (2 * push).Milliseconds()})
	b.now = b.now.Add(push)
	d.NotifyMsg(msg(t, "s1", "s1", 1, 2, 0, 1))
	if r := b.relaysForLocked("s2", b.now); len(r) != 1 || r[0].AgeMs != 0 {
		t.Errorf("s2's copy is 3 push intervals old: relays = %+v", r)
	}
	b.now = b.now.Add(3 * push) // now our own copy of s1 is stale too: nothing worth relaying
	if r := b.relaysForLocked("s2", b.now); len(r) != 0 {
		t.Errorf("relayed a stale copy: %+v", r)
	}
}

func TestEventsDropWhenConsumerIsSlow(t *testing.T) {
	b := newBare(t, "s1")
	for i := range eventBuffer + 5 {
		eventDelegate{b.Gossip}.NotifyUpdate(&memberlist.Node{Name: "s" + string(rune('a'+i%26)) + string(rune('a'+i/26)),
			Addr: net.IPv4(127, 0, 0, 1), Port: 1})
	}
	if got, _ := metricValue(t, b.reg, "rsguard_heartbeat_events_dropped_total"); got != 5 {
		t.Errorf("dropped = %v, want 5", got)
	}
	if ev := <-b.Events(); ev.Type != EventUpdate || ev.Member.Status != StatusAlive || ev.Member.Addr != "127.0.0.1:1" {
		t.Errorf("first event = %+v", ev)
	}
	if got, _ := metricValue(t, b.reg, "rsguard_heartbeat_members", "state", "alive"); got != eventBuffer+5 {
		t.Errorf("alive members gauge = %v", got)
	}
}

func TestMetricsRegistered(t *testing.T) {
	b := newBare(t, "s1")
	for _, name := range []string{
		"rsguard_heartbeat_members", "rsguard_heartbeat_views_received_total", "rsguard_heartbeat_views_sent_total",
		"rsguard_heartbeat_seed_join_failures_total", "rsguard_heartbeat_events_dropped_total",
		"rsguard_heartbeat_views_invalid_total", "rsguard_heartbeat_send_errors_total", "rsguard_heartbeat_settled",
	} {
		if _, ok := metricValue(t, b.reg, name); !ok {
			t.Errorf("%s not registered", name)
		}
	}
	delegate{b.Gossip}.NotifyMsg(msg(t, "s2", "s2", 1, 1, 0, 1))
	b.now = b.now.Add(1500 * time.Millisecond)
	b.push() // no memberlist needed: nobody is alive to send to
	if got, _ := metricValue(t, b.reg, "rsguard_heartbeat_view_age_seconds", "peer", "s2"); got != 1.5 {
		t.Errorf("view age gauge = %v", got)
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, o := range []Options{
		{},
		{NodeID: "a b"},
		{NodeID: "a/b"},
		{NodeID: "a", BindPort: 70000},
		{NodeID: "a", Keyring: [][]byte{[]byte("short")}},
		{NodeID: "a"}, // no keyring and not marked insecure
		{NodeID: "a", Insecure: true, Members: []string{"b", "c"}},
	} {
		if _, err := New(nil, nil, o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	o, err := Options{NodeID: "a", BindPort: 7946, Insecure: true}.withDefaults()
	if err != nil || o.AdvertisePort != 7946 || o.PushInterval != DefaultPushInterval || o.Settle != DefaultSettle ||
		o.ProbeInterval != DefaultProbeInterval || o.BindAddr != "0.0.0.0" {
		t.Errorf("defaults: %+v, %v", o, err)
	}
}

// memberlist's packet handler is LIFO, so a goodbye may be handled after the leave it precedes.
func TestGoodbyeAfterDeathMeansLeft(t *testing.T) {
	b := newBare(t, "s1")
	b.join("s1", "s2")
	events := drain(b.Events())
	eventDelegate{b.Gossip}.NotifyLeave(&memberlist.Node{Name: "s2", Addr: net.IPv4(127, 0, 0, 1), Port: 7946})
	raw, _ := json.Marshal(dataView("s2", topology.StateSecondary, 1))
	bye, _ := encodeEnvelope(&envelope{From: "s2", Origin: "s2", Gen: 1, Seq: 9, Bye: true, View: raw})
	delegate{b.Gossip}.NotifyMsg(bye)
	if st := status(&node{g: b.Gossip}, "s2"); st != StatusLeft {
		t.Errorf("status = %v, want left", st)
	}
	ev := events()
	if !hasEvent(ev, EventLeave, "s2", StatusDead) || !hasEvent(ev, EventLeave, "s2", StatusLeft) {
		t.Errorf("events = %+v", ev)
	}
	if got, _ := metricValue(t, b.reg, "rsguard_heartbeat_members", "state", "left"); got != 1 {
		t.Errorf("left gauge = %v", got)
	}
}
