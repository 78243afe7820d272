package election

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// observed is the visible part of a snapshot, computed once per Classify.
type observed struct {
	snap  topology.Snapshot
	ids   []string // visible sidecars, sorted
	views map[string]topology.MemberView
	now   time.Time
}

func observe(snap topology.Snapshot) observed {
	o := observed{snap: snap, ids: snap.VisibleSidecars(), views: map[string]topology.MemberView{}, now: snap.Now}
	for _, id := range o.ids {
		if v, ok := snap.View(id); ok {
			o.views[id] = v
		}
	}
	return o
}

// claim gathers everything said about one member being primary.
type claim struct {
	host string
	term int64
	// live: someone reached it while it said PRIMARY (its own sidecar, a direct probe, or a
	// healthy heartbeat).
	live bool
	// self: its own sidecar reached it and it reported PRIMARY itself, the strongest source.
	self     bool
	evidence []string
}

// Classify turns a snapshot into one Analysis. The checks run from the most to the least
// conservative: no quorum, then no primary, then two primaries, then a lost primary, then a sick
// one.
func Classify(snap topology.Snapshot, p Policy) Analysis {
	o := observe(snap)
	if !snap.HasQuorum() {
		return Analysis{Kind: LostQuorum, Since: o.now, Evidence: []string{fmt.Sprintf(
			"%s sees %d of %d configured sidecars %v, needs %d",
			snap.Self, len(o.ids), len(snap.Members), o.ids, snap.Majority())}}
	}
	claims := o.claims()
	if len(claims) == 0 {
		if a, busy := o.electionBusy(0, p); busy {
			return a
		}
		return Analysis{Kind: NoPrimary, Since: o.now, Evidence: []string{"no visible sidecar reports a primary"}}
	}
	newest := claims[0]
	// A primary-elect in catch-up is first-hand news from its own sidecar; an older primary
	// still "healthy" in heartbeats is usually a view that lags by up to heartbeatTimeoutSecs
	// (spec §5.1). Only a lingering older primary that must be fenced goes first.
	catching, isCatching := o.catchingUp(newest)
	for _, c := range claims[1:] {
		if c.live && newest.live {
			if a := o.twoPrimaries(c, newest, p); a.Kind != SplitBrainSuspected || !isCatching {
				return a
			}
			break
		}
	}
	if isCatching {
		return catching
	}
	u := o.lostPrimary(newest, p)
	// A vetoed verdict is final too: the sidecars' probes fail because their path to the primary
	// is cut, which is no evidence of sickness (election/veto.go).
	if u.Actionable() || u.Kind == ElectionInProgress || u.Kind == ElectionQuietPeriod || u.Kind == PrimaryUnreachableSidecarsOnly {
		return u
	}
	s := o.sickPrimary(newest, p)
	switch {
	case s.Actionable():
		return s
	case u.Kind != Healthy:
		return u
	}
	return s
}

// claims collects primary claims, newest term first (spec §5.1: at most one primary per term, and
// the newest term is the one drivers follow via electionId, §5.4).
func (o observed) claims() []claim {
	byHost := map[string]*claim{}
	add := func(host string, term int64, live, self bool, ev string) {
		if host == "" {
			return
		}
		// The member's own sidecar, when it reaches its mongod, is authoritative: a stale
		// belief elsewhere cannot make a stepped-down member a primary again.
		if sc, ok := o.snap.SidecarOf(host); ok {
			if v, ok := o.views[sc.ID]; ok && v.Local.Reachable && v.Local.State != topology.StatePrimary {
				return
			}
		}
		c := byHost[host]
		if c == nil {
			c = &claim{host: host}
			byHost[host] = c
		}
		c.term = max(c.term, term)
		c.live = c.live || live
		c.self = c.self || self
		c.evidence = append(c.evidence, ev)
	}
	for _, id := range o.ids {
		v := o.views[id]
		if l := v.Local; l.Host != "" && l.State == topology.StatePrimary {
			if l.Reachable {
				add(l.Host, ownTerm(v), true, true, fmt.Sprintf("%s: own mongod %s is PRIMARY in term %d", id, l.Host, ownTerm(v)))
			} else {
				add(l.Host, l.Term, false, false, fmt.Sprintf("%s: own mongod %s was PRIMARY in term %d, now %s", id, l.Host, l.Term, failureText(l.Failure)))
			}
		}
		if ps := v.Primary; ps.Host != "" {
			add(ps.Host, beliefTerm(ps), ps.Reachable, false, fmt.Sprintf("%s: believes %s is primary in term %d (reached directly: %v)", id, ps.Host, beliefTerm(ps), ps.Reachable))
		}
		for _, peer := range v.Peers {
			if peer.State == topology.StatePrimary {
				// replSetGetStatus members carry no term; the optime's term is a lower bound.
				add(peer.Host, peer.OpTime.Term, peer.Healthy, false, fmt.Sprintf("%s: its mongod sees %s PRIMARY (healthy: %v)", id, peer.Host, peer.Healthy))
			}
		}
	}
	out := make([]claim, 0, len(byHost))
	for _, c := range byHost {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b claim) int {
		switch {
		case a.term != b.term:
			return cmp.Compare(b.term, a.term)
		case a.self != b.self:
			return boolOrder(b.self) - boolOrder(a.self)
		case a.live != b.live:
			return boolOrder(b.live) - boolOrder(a.live)
		}
		return cmp.Compare(a.host, b.host)
	})
	return out
}

// electionBusy reports MongoDB's own election at work (failover-notes "Safety rules": never act
// while a term changed in the last few seconds, a member is a candidate, or a newer term exists).
// A term change alone is ElectionQuietPeriod: nobody is seen electing, rsguard only waits.
func (o observed) electionBusy(primaryTerm int64, p Policy) (Analysis, bool) {
	var ev []string
	var since time.Time
	electing := false
	for _, id := range o.ids {
		l := o.views[id].Local
		if l.Host == "" || !l.Reachable {
			continue
		}
		switch {
		case l.Candidate:
			electing = true
			ev = append(ev, fmt.Sprintf("%s: own mongod %s is running for election in term %d", id, l.Host, l.Term))
		case primaryTerm > 0 && l.Term > primaryTerm:
			electing = true
			ev = append(ev, fmt.Sprintf("%s: own mongod %s is in term %d, newer than the primary's %d", id, l.Host, l.Term, primaryTerm))
		case !l.TermSince.IsZero() && o.now.Sub(l.TermSince) < p.ElectionQuiet:
			ago := o.now.Sub(l.TermSince)
			ev = append(ev, fmt.Sprintf("%s: own mongod %s: term %d began %s ago; waiting the election-quiet period (failover.election_quiet %s), %s left",
				id, l.Host, l.Term, ago.Round(100*time.Millisecond), p.ElectionQuiet, (p.ElectionQuiet-ago).Round(100*time.Millisecond)))
		default:
			continue
		}
		if !l.TermSince.IsZero() && (since.IsZero() || l.TermSince.Before(since)) {
			since = l.TermSince
		}
	}
	if len(ev) == 0 {
		return Analysis{}, false
	}
	if since.IsZero() {
		since = o.now
	}
	if !electing {
		ev = append(ev, "no member is running for election and none is in a newer term")
		return Analysis{Kind: ElectionQuietPeriod, Since: since, Evidence: ev}, true
	}
	return Analysis{Kind: ElectionInProgress, Since: since, Evidence: ev}, true
}

// twoPrimaries handles two live claims. The newer term wins (spec §5.1); the older primary steps
// down as soon as it learns the term, unless it is too sick to (spec §6.1), which is what
// FenceAfter bounds.
func (o observed) twoPrimaries(older, newer claim, p Policy) Analysis {
	a := Analysis{Kind: SplitBrainSuspected, Primary: older.host, Term: older.term,
		Newer: newer.host, NewerTerm: newer.term, Since: o.now}
	a.Evidence = append(append(a.Evidence, newer.evidence...), older.evidence...)
	if sc, ok := o.snap.SidecarOf(newer.host); ok {
		if v, ok := o.views[sc.ID]; ok && !v.Local.TermSince.IsZero() {
			a.Since = v.Local.TermSince
		}
	}
	// Only fence when the older primary itself still says PRIMARY to its own sidecar and the
	// term gap is real: a same-term pair is view skew, not a lingering primary.
	if p.FenceAfter > 0 && older.self && older.term < newer.term && o.now.Sub(a.Since) >= p.FenceAfter {
		a.Kind = StalePrimaryLingering
		a.Evidence = append(a.Evidence, fmt.Sprintf("%s still claims PRIMARY in term %d %s after term %d began (fence after %s)",
			older.host, older.term, o.now.Sub(a.Since), newer.term, p.FenceAfter))
	}
	return a
}

func failureText(f topology.FailureKind) string {
	if f == topology.FailureNone {
		return "unreachable"
	}
	return "unreachable (" + string(f) + ")"
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}
