package heartbeat

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// wireVersion is the first byte of every heartbeat message and push-pull state, so that a later
// format can be told apart instead of failing to decode.
const wireVersion byte = 1

// envelope carries one sidecar's view, from its origin or relayed by another sidecar.
type envelope struct {
	From   string `json:"f"` // the sender; From == Origin means a direct copy
	Origin string `json:"o"` // whose view this is
	// Gen and Seq order the origin's pushes: Gen is the origin's start time (a restart begins a
	// new generation), Seq counts every send, so even an unchanged view is a fresh heartbeat.
	Gen int64  `json:"g"`
	Seq uint64 `json:"s"`
	// AgeMs is how old the sender's copy was when sent, by the sender's clock (0 from the origin).
	// Ages add up along relays; only durations cross the wire, so clock skew does not matter.
	AgeMs int64 `json:"a,omitempty"`
	// Seen is the origin's report of how long ago (ms) it last got each peer's view directly.
	// Relayers read it to find pairs that cannot talk (the relay rule, below).
	Seen map[string]int64 `json:"seen,omitempty"`
	View json.RawMessage  `json:"v"`
	// Bye marks the origin's last push before it leaves the cluster on purpose.
	Bye bool `json:"bye,omitempty"`
	// MAC proves the origin made this view (auth.go); relays carry it unchanged. Empty when the
	// origin runs without a keyring (insecure).
	MAC []byte `json:"m,omitempty"`
}

func (e *envelope) newerThan(x *entry) bool {
	return e.Gen > x.gen || (e.Gen == x.gen && e.Seq > x.seq)
}

// entry is the freshest copy held of one sidecar's view.
type entry struct {
	view topology.MemberView
	raw  json.RawMessage
	gen  int64
	seq  uint64
	// at is when the copy left its origin, by this sidecar's clock: receipt time minus the carried
	// age. The view's Age is now - at.
	at       time.Time
	direct   bool   // the freshest copy came straight from the origin
	via      string // who sent the freshest copy
	directAt time.Time
	seen     map[string]int64
	seenAt   time.Time
	byeAt    time.Time // when the origin said it was leaving
	mac      []byte    // the origin's MAC of this version, relayed unchanged
	bye      bool      // the version was the origin's goodbye (part of what the MAC covers)
}

// PeerView is a view with how it arrived, for diagnostics (status API, drills).
type PeerView struct {
	topology.ViewWithAge
	// Direct reports whether the freshest copy came straight from its sidecar; false means a
	// third sidecar relayed it (or push-pull did), e.g. across a cut link.
	Direct bool `json:"direct"`
	// Via is the sidecar that sent the freshest copy.
	Via string `json:"via,omitempty"`
	// DirectAge is the age of the last copy received straight from the sidecar; -1 if never.
	DirectAge time.Duration `json:"direct_age"`
}

var errBadEnvelope = errors.New("heartbeat: bad view message")

// errUnauthenticated is a view not provably from the configured sidecar it names (auth.go).
var errUnauthenticated = errors.New("heartbeat: unauthenticated view")

func encodeEnvelope(e *envelope) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("heartbeat: encode view: %w", err)
	}
	return append([]byte{wireVersion}, b...), nil
}

func decodeEnvelope(b []byte) (*envelope, error) {
	if len(b) < 2 || b[0] != wireVersion {
		return nil, errBadEnvelope
	}
	var e envelope
	if err := json.Unmarshal(b[1:], &e); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadEnvelope, err)
	}
	if e.Origin == "" || e.From == "" || e.AgeMs < 0 {
		return nil, errBadEnvelope
	}
	return &e, nil
}

// receiveLocked files one copy of a view. Newer versions (Gen, Seq) replace the held one; a
// direct copy from a new generation replaces it too, because an origin is the authority on itself
// even if its clock went back across a restart. A newer version never looks older than the one
// it replaces; more copies of the same version never make it look younger.
func (g *Gossip) receiveLocked(e *envelope, path string, now time.Time) error {
	g.metrics.viewsReceived.WithLabelValues(path).Inc()
	if reason := g.auth.check(e); reason != "" {
		return fmt.Errorf("%w: view of %q from %q: %s", errUnauthenticated, e.Origin, e.From, reason)
	}
	if e.Origin == g.opts.NodeID {
		return nil // our own view, echoed back by push-pull or a relay
	}
	direct := e.From == e.Origin
	at := now.Add(-time.Duration(e.AgeMs) * time.Millisecond)
	old := g.views[e.Origin]
	switch {
	case old == nil || e.newerThan(old) || (direct && e.Gen != old.gen):
		var v topology.MemberView
		if err := json.Unmarshal(e.View, &v); err != nil {
			return fmt.Errorf("%w: view of %s: %w", errBadEnvelope, e.Origin, err)
		}
		if v.SidecarID != e.Origin {
			return fmt.Errorf("%w: view of %q sent as %q", errBadEnvelope, v.SidecarID, e.Origin)
		}
		n := &entry{view: v, raw: e.View, gen: e.Gen, seq: e.Seq, at: at, direct: direct, via: e.From,
			seen: e.Seen, seenAt: at, mac: e.MAC, bye: e.Bye}
		if old != nil {
			n.directAt = old.directAt
			if old.gen == e.Gen && old.at.After(at) {
				n.at = old.at // a newer version never makes the view look older
			}
		}
		if direct {
			n.directAt = now
			if e.Bye {
				n.byeAt = now
				g.byeLocked(e.Origin, now)
			}
		}
		g.views[e.Origin] = n
	case e.Gen == old.gen && e.Seq == old.seq:
		// Another copy of the version held: it cannot be younger than our first receipt proved,
		// so keep the oldest estimate; a direct copy still counts as hearing from the origin.
		old.at = minTime(old.at, at)
		if direct {
			old.direct, old.via, old.directAt = true, e.From, now
		}
	}
	return nil
}

// ownEnvelopeLocked is a fresh heartbeat of the local view, or nil before SetLocalView.
func (g *Gossip) ownEnvelopeLocked(now time.Time) *envelope {
	if g.local == nil {
		return nil
	}
	g.seq++
	seen := make(map[string]int64, len(g.views))
	for id, e := range g.views {
		if !e.directAt.IsZero() {
			seen[id] = now.Sub(e.directAt).Milliseconds()
		}
	}
	return g.auth.sign(&envelope{From: g.opts.NodeID, Origin: g.opts.NodeID, Gen: g.gen, Seq: g.seq, Seen: seen, View: g.local})
}

// relayEnvelopeLocked forwards our copy of origin's view.
func (g *Gossip) relayEnvelopeLocked(e *entry, now time.Time) *envelope {
	return &envelope{From: g.opts.NodeID, Origin: e.view.SidecarID, Gen: e.gen, Seq: e.seq,
		AgeMs: max(0, now.Sub(e.at).Milliseconds()), Seen: e.seen, View: e.raw, MAC: e.mac, Bye: e.bye}
}

// relaysForLocked applies the relay rule for one peer: forward origin X's view to peer P when P
// seems to have had no direct copy of X for 2.5 push intervals while our own copy of X is younger
// than two. P's last report (Seen) plus its age over-estimates P's direct age by at most one push
// interval, hence the half interval of slack: with all links up nothing is relayed. A cut link
// between P and X is bridged by every sidecar that hears both, and relays chain, carrying ages.
func (g *Gossip) relaysForLocked(p string, now time.Time) []*envelope {
	pe := g.views[p]
	if pe == nil {
		return nil // P has not reported yet
	}
	ours := 2 * g.opts.PushInterval
	theirs := ours + g.opts.PushInterval/2
	var out []*envelope
	for x, xe := range g.views {
		if x == p || now.Sub(xe.at) > ours {
			continue
		}
		if ms, ok := pe.seen[x]; ok && time.Duration(ms)*time.Millisecond+now.Sub(pe.seenAt) <= theirs {
			continue
		}
		out = append(out, g.relayEnvelopeLocked(xe, now))
	}
	return out
}

// Views returns the latest view of every sidecar heard from, this one included (Age 0), keyed by
// sidecar id. Age is the age of the freshest copy received by any path (direct, relayed or
// push-pull), measured on this sidecar's clock; Alive is memberlist's verdict (alive or suspect).
// The election needs both: a view is evidence only while it is fresh.
func (g *Gossip) Views() map[string]topology.ViewWithAge {
	pv := g.PeerViews()
	out := make(map[string]topology.ViewWithAge, len(pv))
	for id, v := range pv {
		out[id] = v.ViewWithAge
	}
	return out
}

// PeerViews is Views with how each view arrived.
func (g *Gossip) PeerViews() map[string]PeerView {
	now := g.opts.Clock()
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]PeerView, len(g.views)+1)
	for id, e := range g.views {
		m := g.members[id]
		pv := PeerView{
			ViewWithAge: topology.ViewWithAge{View: e.view, Age: max(0, now.Sub(e.at)),
				Alive: m != nil && m.Status == StatusAlive},
			Direct: e.direct, Via: e.via, DirectAge: -1,
		}
		if !e.directAt.IsZero() {
			pv.DirectAge = max(0, now.Sub(e.directAt))
		}
		out[id] = pv
	}
	if g.local != nil {
		out[g.opts.NodeID] = PeerView{ViewWithAge: topology.ViewWithAge{View: g.localView, Alive: true},
			Direct: true, Via: g.opts.NodeID}
	}
	return out
}

// SetLocalView replaces the view this sidecar gossips. It goes out with the next push (within
// PushInterval); call PushNow as well when it matters to be sooner. An empty SidecarID is filled
// in; a different one is an error.
func (g *Gossip) SetLocalView(v topology.MemberView) error {
	if v.SidecarID == "" {
		v.SidecarID = g.opts.NodeID
	}
	if v.SidecarID != g.opts.NodeID {
		return fmt.Errorf("heartbeat: view of %q set on sidecar %q", v.SidecarID, g.opts.NodeID)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("heartbeat: encode local view: %w", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.local, g.localView = raw, v
	return nil
}

// PushNow pushes the local view to every alive member without waiting for the next tick, e.g.
// right after the local mongod stopped answering. Calls coalesce.
func (g *Gossip) PushNow() {
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
