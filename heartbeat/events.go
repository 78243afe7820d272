package heartbeat

import (
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// MemberStatus is memberlist's verdict on a member.
//
// There is no suspect status: memberlist keeps "suspect" internal (no callback fires on it, and
// its Node.State field is never filled in). Suspect members count as alive here; the view age
// (views.go) is the fast signal anyway. Left versus dead is told apart by the goodbye that Leave
// pushes before memberlist's own leave message, for the same reason.
type MemberStatus int

// Member statuses.
const (
	StatusAlive MemberStatus = iota + 1 // alive or suspect
	StatusDead                          // failed the probes and the suspicion timeout
	StatusLeft                          // said goodbye (Leave)
)

func (s MemberStatus) String() string {
	switch s {
	case StatusAlive:
		return "alive"
	case StatusDead:
		return "dead"
	case StatusLeft:
		return "left"
	}
	return "unknown"
}

// Member is one gossip member as this sidecar sees it.
type Member struct {
	ID     string       `json:"id"`
	Addr   string       `json:"addr"` // advertised ip:port
	Status MemberStatus `json:"status"`
	Since  time.Time    `json:"since"` // when this sidecar saw the status change
}

// EventType says what happened to a member.
type EventType int

// Event types, mirroring memberlist's EventDelegate.
const (
	EventJoin   EventType = iota + 1 // new, or back from dead/left
	EventLeave                       // declared dead, or left
	EventUpdate                      // re-advertised with new metadata
)

func (t EventType) String() string {
	switch t {
	case EventJoin:
		return "join"
	case EventLeave:
		return "leave"
	case EventUpdate:
		return "update"
	}
	return "unknown"
}

// MemberEvent is one membership change, as delivered on Events().
type MemberEvent struct {
	Type   EventType
	Member Member
}

// member is the membership table's row: the public part plus the node copy needed to send to it.
type member struct {
	Member
	node memberlist.Node
}

// eventDelegate receives memberlist's membership callbacks. memberlist calls them while holding
// its node lock, which is what makes copying *n here race-free; they must not call back into it.
type eventDelegate struct{ g *Gossip }

func (d eventDelegate) NotifyJoin(n *memberlist.Node)   { d.g.memberChanged(EventJoin, n) }
func (d eventDelegate) NotifyLeave(n *memberlist.Node)  { d.g.memberChanged(EventLeave, n) }
func (d eventDelegate) NotifyUpdate(n *memberlist.Node) { d.g.memberChanged(EventUpdate, n) }

// byeMemory is how long a goodbye explains a member's disappearance as "left".
const byeMemory = time.Minute

func (g *Gossip) memberChanged(t EventType, n *memberlist.Node) {
	now := g.opts.Clock()
	node := *n
	node.Addr = slices.Clone(n.Addr)
	node.Meta = slices.Clone(n.Meta)

	g.mu.Lock()
	defer g.mu.Unlock()
	status := StatusAlive
	if t == EventLeave {
		status = StatusDead
		if e := g.views[n.Name]; e != nil && !e.byeAt.IsZero() && now.Sub(e.byeAt) < byeMemory {
			status = StatusLeft
		}
		if n.Name == g.opts.NodeID && g.leaving {
			status = StatusLeft
		}
	}
	m := g.members[n.Name]
	if m == nil || m.Status != status {
		m = &member{Member: Member{ID: n.Name, Status: status, Since: now}}
		g.members[n.Name] = m
	}
	m.node = node
	m.Addr = node.Address()
	g.updateMemberGaugeLocked()
	if t == EventLeave {
		g.logger.Info("gossip member lost", "member", n.Name, "addr", m.Addr, "status", status)
	} else if n.Name != g.opts.NodeID {
		g.logger.Info("gossip member "+t.String(), "member", n.Name, "addr", m.Addr)
	}
	g.emitLocked(MemberEvent{Type: t, Member: m.Member})
}

// byeLocked handles a goodbye that arrives after memberlist already reported the death: its
// packet handler takes queued messages last-in first-out, so the order is not guaranteed. The
// member is corrected to left, with a second leave event.
func (g *Gossip) byeLocked(id string, now time.Time) {
	m := g.members[id]
	if m == nil || m.Status != StatusDead || now.Sub(m.Since) >= byeMemory {
		return
	}
	m.Status = StatusLeft
	g.updateMemberGaugeLocked()
	g.logger.Info("gossip member left", "member", id, "addr", m.Addr)
	g.emitLocked(MemberEvent{Type: EventLeave, Member: m.Member})
}

func (g *Gossip) emitLocked(ev MemberEvent) {
	if g.closed {
		return
	}
	select {
	case g.events <- ev:
	default:
		g.metrics.eventsDropped.Inc()
	}
}

func (g *Gossip) updateMemberGaugeLocked() {
	counts := map[MemberStatus]int{StatusAlive: 0, StatusDead: 0, StatusLeft: 0}
	for _, m := range g.members {
		counts[m.Status]++
	}
	for s, c := range counts {
		g.metrics.members.WithLabelValues(s.String()).Set(float64(c))
	}
}

// Members lists every member this sidecar has heard of, itself included, sorted by id. Dead and
// left members stay listed: the configured sidecars, not the gossip membership, are the quorum's
// denominator.
func (g *Gossip) Members() []Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Member, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, m.Member)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Events delivers membership changes. The channel is buffered; when the consumer falls behind,
// events are dropped (rsguard_heartbeat_events_dropped_total) rather than stalling memberlist.
// Members() is always current. The channel is closed by Shutdown.
func (g *Gossip) Events() <-chan MemberEvent { return g.events }

// alivePeersLocked lists alive members other than this sidecar.
func (g *Gossip) alivePeersLocked() []*member {
	var out []*member
	for id, m := range g.members {
		if id != g.opts.NodeID && m.Status == StatusAlive {
			out = append(out, m)
		}
	}
	return out
}
