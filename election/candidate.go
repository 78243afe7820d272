package election

import (
	"slices"

	"github.com/rsguard/rsguard/topology"
)

// Candidate is one replica-set member as the ranking sees it. The list given to Rank holds every
// known voter, not just electable ones, because electability depends on who would grant a vote
// (spec §5.3).
type Candidate struct {
	SidecarID string               `json:"sidecar,omitempty"`
	Host      string               `json:"host"`
	Zone      string               `json:"zone,omitempty"`
	State     topology.MemberState `json:"state"`
	OpTime    topology.OpTime      `json:"optime,omitzero"`
	Priority  float64              `json:"prio"`
	Votes     int                  `json:"votes"`
	Hidden    bool                 `json:"hidden,omitempty"`
	Tags      map[string]string    `json:"tags,omitempty"`
	// Visible: its own sidecar is visible, so State, priority and votes are first-hand.
	Visible bool `json:"visible,omitempty"`
	// ReachableBy counts visible sidecars that reach it; Reachable means a majority of the
	// configured sidecars do.
	ReachableBy int  `json:"reachable_by"`
	Reachable   bool `json:"reachable,omitempty"`
	Frozen      bool `json:"frozen,omitempty"` // in a replSetFreeze or stepdown period (spec §6.2)
	// Primary marks the member being replaced: never promoted, never counted as granting.
	Primary bool `json:"primary,omitempty"`
	// Grants: expected to grant a vote to a candidate at least as fresh as itself.
	Grants bool `json:"grants,omitempty"`
}

// Candidates builds the ranking input from a snapshot: every configured data member plus every
// member its peers report (arbiters, members without a sidecar). replaced is the primary being
// replaced; sickPrimaryUp says it still heartbeats, so arbiters will refuse votes.
func Candidates(snap topology.Snapshot, replaced string, sickPrimaryUp bool) []Candidate {
	o := observe(snap)
	seen := map[string]bool{}
	var out []Candidate
	for _, m := range snap.Members {
		if m.Mode != topology.ModeData || m.Host == "" || seen[m.Host] {
			continue
		}
		seen[m.Host] = true
		c := Candidate{SidecarID: m.ID, Host: m.Host, Zone: m.Zone, Votes: 1}
		if v, ok := o.views[m.ID]; ok {
			l := v.Local
			c.Visible = true
			c.State, c.OpTime, c.Priority, c.Votes, c.Hidden, c.Tags = l.State, l.OpTime, l.Priority, l.Votes, l.Hidden, l.Tags
			c.Frozen = l.FrozenUntil.After(snap.Now)
			if v.Zone != "" {
				c.Zone = v.Zone
			}
		} else if ps, ok := o.bestPeer(m.Host); ok {
			// Without its sidecar we know only what heartbeats say; votes are assumed 1 so
			// the majority is never underestimated.
			c.State, c.OpTime = ps.State, ps.OpTime
		}
		out = append(out, o.finish(c, replaced, sickPrimaryUp))
	}
	var others []string
	for _, id := range o.ids {
		for _, ps := range o.views[id].Peers {
			if !seen[ps.Host] {
				seen[ps.Host] = true
				others = append(others, ps.Host)
			}
		}
	}
	slices.Sort(others)
	for _, host := range others {
		ps, _ := o.bestPeer(host)
		c := Candidate{Host: host, State: ps.State, OpTime: ps.OpTime, Votes: 1}
		out = append(out, o.finish(c, replaced, sickPrimaryUp))
	}
	return out
}

func (o observed) finish(c Candidate, replaced string, sickPrimaryUp bool) Candidate {
	for _, id := range o.ids {
		if o.views[id].Reaches(c.Host) == topology.ReachYes {
			c.ReachableBy++
		}
	}
	c.Reachable = c.ReachableBy >= o.snap.Majority()
	c.Primary = c.Host == replaced
	switch {
	case c.Primary || !c.Reachable || c.Votes <= 0:
	case c.State == topology.StateArbiter:
		// spec §5.3: an arbiter refuses while it sees a healthy primary of equal or greater
		// priority, and a sick primary still looks healthy to it.
		c.Grants = !sickPrimaryUp
	case c.State == topology.StateSecondary, c.State == topology.StateRecovering, c.State == topology.StateRollback:
		// spec §3.1: these states vote; STARTUP2 (initial sync, newlyAdded) does not.
		c.Grants = true
	}
	return c
}

// bestPeer is the freshest healthy report of host among the visible views.
func (o observed) bestPeer(host string) (topology.PeerSeen, bool) {
	var best topology.PeerSeen
	found := false
	for _, id := range o.ids {
		ps, ok := o.views[id].Peer(host)
		if !ok {
			continue
		}
		if !found || (ps.Healthy && !best.Healthy) || (ps.Healthy == best.Healthy && ps.OpTime.After(best.OpTime)) {
			best, found = ps, true
		}
	}
	return best, found
}
