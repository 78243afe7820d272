package election

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/rsguard/rsguard/topology"
)

// Exclusion says why a member is not a step-up candidate.
type Exclusion string

// Exclusion codes, checked in this order; the first that applies is reported.
const (
	ExcludedCurrentPrimary Exclusion = "current_primary"
	ExcludedArbiter        Exclusion = "arbiter"
	ExcludedNoSidecar      Exclusion = "sidecar_not_visible"
	ExcludedUnreachable    Exclusion = "unreachable"
	ExcludedNotSecondary   Exclusion = "not_secondary"
	ExcludedPriorityZero   Exclusion = "priority_zero"
	ExcludedBelowPriority  Exclusion = "priority_below_min"
	ExcludedHidden         Exclusion = "hidden"
	ExcludedNonVoter       Exclusion = "non_voter"
	ExcludedFrozen         Exclusion = "frozen"
	ExcludedZoneAvoided    Exclusion = "zone_avoided"
	ExcludedTags           Exclusion = "tags_mismatch"
	ExcludedLag            Exclusion = "lag_exceeded"
	ExcludedStale          Exclusion = "stale"
)

// Excluded is one member left out of the ranking, with its reason.
type Excluded struct {
	Host   string    `json:"host"`
	Reason Exclusion `json:"reason"`
	Detail string    `json:"detail,omitempty"`
}

// Ranking is Rank's result: eligible candidates best first, and everyone else with a reason.
type Ranking struct {
	Ranked   []Candidate `json:"ranked"`
	Excluded []Excluded  `json:"excluded,omitempty"`
	// Freshest is the newest optime known among reachable members and the replaced primary.
	Freshest topology.OpTime `json:"freshest,omitzero"`
	// VotesNeeded is majorityVoteCount (spec §3.3) over the known voters.
	VotesNeeded int `json:"votes_needed"`
}

// Best returns the top candidate.
func (r Ranking) Best() (Candidate, bool) {
	if len(r.Ranked) == 0 {
		return Candidate{}, false
	}
	return r.Ranked[0], true
}

// Rank orders the eligible candidates: optime desc, priority desc, preferred zone, then sidecar id
// and host, so the result does not depend on input order. An eligible candidate is a reachable,
// visible, voting, electable SECONDARY (spec §5.2 _getMyUnelectableReason) whose optime is fresh
// enough for a majority of voters to grant it (spec §5.3) and within Policy.MaxLag.
func Rank(cands []Candidate, p Policy) Ranking {
	var r Ranking
	total := 0
	for _, c := range cands {
		total += max(c.Votes, 0)
		if c.State != topology.StateArbiter && (c.Reachable || c.Primary) && c.OpTime.After(r.Freshest) {
			r.Freshest = c.OpTime
		}
	}
	r.VotesNeeded = total/2 + 1
	for _, c := range cands {
		if why, detail := exclude(c, cands, r, p); why != "" {
			r.Excluded = append(r.Excluded, Excluded{Host: c.Host, Reason: why, Detail: detail})
			continue
		}
		r.Ranked = append(r.Ranked, c)
	}
	slices.SortStableFunc(r.Ranked, func(a, b Candidate) int {
		if c := b.OpTime.Compare(a.OpTime); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
			return c
		}
		if c := boolOrder(slices.Contains(p.PreferZones, b.Zone)) - boolOrder(slices.Contains(p.PreferZones, a.Zone)); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.SidecarID, b.SidecarID), cmp.Compare(a.Host, b.Host))
	})
	slices.SortStableFunc(r.Excluded, func(a, b Excluded) int { return cmp.Compare(a.Host, b.Host) })
	return r
}

func exclude(c Candidate, all []Candidate, r Ranking, p Policy) (Exclusion, string) {
	switch {
	case c.Primary:
		return ExcludedCurrentPrimary, ""
	case c.State == topology.StateArbiter:
		return ExcludedArbiter, ""
	case !c.Visible:
		return ExcludedNoSidecar, "its priority, votes and state are not first-hand"
	case !c.Reachable:
		return ExcludedUnreachable, fmt.Sprintf("reached by %d sidecars", c.ReachableBy)
	case c.State != topology.StateSecondary:
		return ExcludedNotSecondary, c.State.String()
	case c.Priority <= 0:
		return ExcludedPriorityZero, ""
	case c.Priority < p.MinPriority:
		return ExcludedBelowPriority, fmt.Sprintf("priority %g, floor %g", c.Priority, p.MinPriority)
	case c.Hidden:
		return ExcludedHidden, ""
	case c.Votes <= 0:
		return ExcludedNonVoter, ""
	case c.Frozen:
		return ExcludedFrozen, ""
	case slices.Contains(p.AvoidZones, c.Zone):
		return ExcludedZoneAvoided, c.Zone
	}
	for k, v := range p.RequireTags {
		if c.Tags[k] != v {
			return ExcludedTags, fmt.Sprintf("needs %s=%s", k, v)
		}
	}
	if lag := c.OpTime.LagBehind(r.Freshest); p.MaxLag > 0 && lag > p.MaxLag {
		return ExcludedLag, fmt.Sprintf("%s behind, ceiling %s", lag, p.MaxLag)
	}
	// spec §5.3: a voter refuses a candidate whose data is staler than its own, so the
	// candidate needs a majority among itself and the granting voters no fresher than it.
	votes := c.Votes
	for _, o := range all {
		if o.Host != c.Host && o.Grants && o.Votes > 0 && o.OpTime.Compare(c.OpTime) <= 0 {
			votes += o.Votes
		}
	}
	if votes < r.VotesNeeded {
		return ExcludedStale, fmt.Sprintf("%d of %d votes would be granted", votes, r.VotesNeeded)
	}
	return "", ""
}
