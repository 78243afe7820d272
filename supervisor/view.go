package supervisor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// buildViewLocked assembles the MemberView this sidecar gossips.
func (s *Supervisor) buildViewLocked(views map[string]topology.ViewWithAge, now time.Time) topology.MemberView {
	v := topology.MemberView{
		SidecarID:  s.id,
		Mode:       s.mode,
		Zone:       s.cfg.Zone(),
		ObservedAt: now,
		Probe:      s.probe.wp,
		Peers:      s.peersLocked(),
		Primary:    s.primaryLocked(views),
		Cfg:        s.drift.viewPrint(),
		Memory:     s.state.Memory,
		// Whether it may be addressed actions on other members (election/executor.go).
		Remote: s.cfg.MemberAccess() != nil,
	}
	v.JournalProbe = s.jprobe.wp
	if s.local.usable {
		v.Local = s.local.view
	}
	return v
}

// primaryLocked is the primary this sidecar believes in: its own mongod's (hello "primary") while
// that answers, else the newest-term primary in the other sidecars' views (arbiter mode, or the
// local mongod is down). Reachable is this sidecar's own check of it; when there is none yet the
// belief is withheld, because an unreached primary would count as a vote for "lost".
func (s *Supervisor) primaryLocked(views map[string]topology.ViewWithAge) topology.PrimarySeen {
	var p topology.PrimarySeen
	if s.local.reachable() {
		p = s.local.obs.Primary()
	}
	if p.Host == "" {
		p = primaryFromViews(views, s.id, s.cfg.Probe.ViewMaxAge)
	}
	switch {
	case p.Host == "":
		return topology.PrimarySeen{}
	case p.Host == s.selfHost:
		p.Reachable = s.local.reachable()
		if !s.local.usable {
			return topology.PrimarySeen{}
		}
	default:
		peer := s.peers[p.Host]
		if peer == nil || !peer.tried {
			return topology.PrimarySeen{}
		}
		p.Reachable = peer.ok
	}
	return p
}

// primaryFromViews picks the newest-term primary the other sidecars report: first-hand claims
// (a sidecar's own reachable mongod says PRIMARY) and beliefs alike; ties go to the host more
// sidecars name, then the lowest host. Stale views do not count.
func primaryFromViews(views map[string]topology.ViewWithAge, self string, maxAge time.Duration) topology.PrimarySeen {
	type cand struct {
		term  int64
		votes int
	}
	cands := map[string]*cand{}
	add := func(host string, term int64) {
		if host == "" {
			return
		}
		c := cands[host]
		if c == nil {
			c = &cand{}
			cands[host] = c
		}
		c.term = max(c.term, term)
		c.votes++
	}
	for id, v := range views {
		if id == self || !v.Alive || maxAge > 0 && v.Age > maxAge {
			continue
		}
		if l := v.View.Local; l.Reachable && l.State == topology.StatePrimary {
			add(l.Host, l.Term)
		}
		add(v.View.Primary.Host, max(v.View.Primary.Term, v.View.Primary.ElectionTerm))
	}
	var best string
	for h, c := range cands {
		b := cands[best]
		if best == "" || c.term > b.term || (c.term == b.term && (c.votes > b.votes || c.votes == b.votes && h < best)) {
			best = h
		}
	}
	if best == "" {
		return topology.PrimarySeen{}
	}
	return topology.PrimarySeen{Host: best, Term: cands[best].term}
}

// publish hands the current view to gossip, and pushes it at once (and decides at once) when
// reachability or state changed: the others should learn within one push, not one interval.
//
// Nothing is gossiped before the sidecar has been ready once. A sidecar that gossips is visible,
// and the lowest visible id coordinates: a sidecar that may not act (its mongod of another set or
// never answering) must not become the coordinator that everyone else defers to. Gossip has no
// way to withdraw a view, so a sidecar that stops being ready later keeps gossiping (with its
// local view withheld when its mongod is of another set).
func (s *Supervisor) publish() {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	views := s.gossip.Views()
	settled := s.gossip.Settled()
	s.mu.Lock()
	v := s.buildViewLocked(views, s.now())
	sig := viewSignature(v)
	changed := sig != s.viewSig
	reasons := s.readinessLocked(settled)
	notReady := len(reasons) > 0
	// A sidecar held back by config drift alone still publishes (NotReady), so that its peers
	// see the drift too (agreement.go).
	if !s.published && (!notReady || s.onlyDriftLocked(reasons)) {
		s.published, changed = true, true
	}
	// Once published, a sidecar that stops being ready says so, so that it is not chosen as
	// the coordinator while it cannot act (topology.Snapshot.Coordinator).
	if v.NotReady = s.published && notReady; v.NotReady != s.ownView.NotReady {
		changed = true
	}
	s.viewSig, s.ownView = sig, v
	published := s.published
	s.mu.Unlock()
	if !published {
		return
	}
	if err := s.gossip.SetLocalView(v); err != nil {
		s.logger.Error("cannot gossip own view", "err", err)
		return
	}
	if changed {
		s.gossip.PushNow()
		s.kickDecide()
	}
}

// viewSignature is the part of a view whose change is material for a decision.
func viewSignature(v topology.MemberView) string {
	var b strings.Builder
	l := v.Local
	fmt.Fprintf(&b, "%s|%v|%s|%d|%d|%v|", l.Host, l.Reachable, l.Failure, l.State, l.Term, l.Candidate)
	fmt.Fprintf(&b, "%s|%d|%v|", v.Primary.Host, max(v.Primary.Term, v.Primary.ElectionTerm), v.Primary.Reachable)
	fmt.Fprintf(&b, "%s|%d|%v|", v.Probe.Target, min(v.Probe.ConsecutiveFails, 100), !v.Probe.FailingSince.IsZero())
	fmt.Fprintf(&b, "%s|%v|", v.Cfg.Sum, len(v.Cfg.Keys) > 0)
	fmt.Fprintf(&b, "%s|%d|%v|", v.JournalProbe.Target, min(v.JournalProbe.ConsecutiveFails, 100), !v.JournalProbe.FailingSince.IsZero())
	for _, p := range v.Peers {
		fmt.Fprintf(&b, "%s:%d:%v,", p.Host, p.State, p.Healthy)
	}
	fmt.Fprintf(&b, "|mem:%s", memoryDigest(v.Memory))
	fmt.Fprintf(&b, "|nr:%v", v.NotReady)
	return b.String()
}

// viewsSignature covers every sidecar's view plus whether it is alive and fresh.
func viewsSignature(views map[string]topology.ViewWithAge, maxAge time.Duration) string {
	ids := make([]string, 0, len(views))
	for id := range views {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	for _, id := range ids {
		v := views[id]
		fmt.Fprintf(&b, "%s:%v:%v:%s;", id, v.Alive, maxAge <= 0 || v.Age <= maxAge, viewSignature(v.View))
	}
	return b.String()
}

// snapshotLocked is the election core's input: the configured sidecars, every gossiped view with
// its age (our own replaced by the newest), and the clock.
func (s *Supervisor) snapshotLocked(views map[string]topology.ViewWithAge, now time.Time) topology.Snapshot {
	snap := topology.Snapshot{
		Now:     now,
		SetName: s.cfg.ReplicaSet,
		Self:    s.id,
		MaxAge:  s.cfg.Probe.ViewMaxAge,
		Views:   make(map[string]topology.ViewWithAge, len(views)+1),
	}
	for _, m := range s.cfg.Members {
		snap.Members = append(snap.Members, topology.SidecarConfig{
			ID: m.ID, Mode: topology.Mode(m.Mode), Zone: m.Zone, Host: m.Mongod})
	}
	for id, v := range views {
		snap.Views[id] = v
	}
	snap.Views[s.id] = topology.ViewWithAge{View: s.ownView, Alive: true}
	return snap
}
