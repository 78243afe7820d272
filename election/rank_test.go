package election

import (
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"testing/quick"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// candidateSet is a random set of members for testing/quick.
type candidateSet []Candidate

func (candidateSet) Generate(r *rand.Rand, size int) reflect.Value {
	n := 1 + r.Intn(7)
	states := []topology.MemberState{topology.StateSecondary, topology.StateSecondary, topology.StateSecondary,
		topology.StateRecovering, topology.StateArbiter, topology.StateStartup2}
	zones := []string{"z1", "z2", "z3"}
	cs := make(candidateSet, n)
	for i := range cs {
		c := Candidate{
			SidecarID: string(rune('a' + i)), Host: string(rune('a'+i)) + ":27017", Zone: zones[r.Intn(3)],
			State:    states[r.Intn(len(states))],
			OpTime:   topology.MakeOpTime(uint32(1000+r.Intn(4)), uint32(r.Intn(3)), int64(2+r.Intn(2))),
			Priority: float64(r.Intn(3)), Votes: 1, Hidden: r.Intn(8) == 0, Visible: r.Intn(8) != 0,
			Frozen: r.Intn(10) == 0, Primary: i == 0 && r.Intn(2) == 0,
		}
		if r.Intn(6) == 0 {
			c.Votes = 0
		}
		c.ReachableBy = r.Intn(4)
		c.Reachable = c.ReachableBy >= 2
		c.Grants = c.Reachable && !c.Primary && c.Votes > 0 && c.State != topology.StateStartup2
		cs[i] = c
	}
	return reflect.ValueOf(cs)
}

func quickPolicy() Policy {
	p := DefaultPolicy()
	p.PreferZones = []string{"z2"}
	return p
}

// The top candidate always has the maximum optime among eligible candidates, and nothing ineligible
// (the primary, a non-SECONDARY, priority 0, unreachable) is ever ranked.
func TestRankTopIsFreshest(t *testing.T) {
	p := quickPolicy()
	f := func(cs candidateSet) bool {
		r := Rank(cs, p)
		best, ok := r.Best()
		if !ok {
			return true
		}
		for _, c := range r.Ranked {
			if c.OpTime.After(best.OpTime) || c.Primary || c.State != topology.StateSecondary || c.Priority <= 0 || !c.Reachable {
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}

// Ranking does not depend on input order, and every input appears exactly once in the output.
func TestRankPermutationStable(t *testing.T) {
	p := quickPolicy()
	f := func(cs candidateSet, seed int64) bool {
		r1 := Rank(cs, p)
		shuffled := slices.Clone(cs)
		rand.New(rand.NewSource(seed)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		r2 := Rank(shuffled, p)
		if !reflect.DeepEqual(r1, r2) {
			return false
		}
		return len(r1.Ranked)+len(r1.Excluded) == len(cs)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}

func TestRankTiebreak(t *testing.T) {
	ot := topology.MakeOpTime(1000, 1, 3)
	mk := func(id, zone string, prio float64, o topology.OpTime) Candidate {
		return Candidate{SidecarID: id, Host: id, Zone: zone, State: topology.StateSecondary, OpTime: o, Priority: prio,
			Votes: 1, Visible: true, Reachable: true, ReachableBy: 3, Grants: true}
	}
	cs := []Candidate{
		mk("e", "z1", 1, ot), mk("d", "z2", 1, ot), mk("c", "z1", 2, ot),
		mk("b", "z1", 1, topology.MakeOpTime(1000, 2, 3)), mk("a", "z1", 1, ot),
	}
	p := DefaultPolicy()
	p.PreferZones = []string{"z2"}
	var got []string
	for _, c := range Rank(cs, p).Ranked {
		got = append(got, c.SidecarID)
	}
	// b: newest optime; c: priority; d: preferred zone; then a before e by id.
	if want := []string{"b", "c", "d", "a", "e"}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}

func TestRankExclusions(t *testing.T) {
	ot := topology.MakeOpTime(1000, 1, 3)
	base := Candidate{State: topology.StateSecondary, OpTime: ot, Priority: 1, Votes: 1, Visible: true,
		Reachable: true, ReachableBy: 3, Grants: true, Tags: map[string]string{"dc": "east"}}
	with := func(host string, f func(*Candidate)) Candidate {
		c := base
		c.Host, c.SidecarID = host, host
		f(&c)
		return c
	}
	cs := []Candidate{
		with("ok", func(*Candidate) {}),
		with("prim", func(c *Candidate) { c.Primary, c.Grants = true, false }),
		with("arb", func(c *Candidate) { c.State, c.OpTime = topology.StateArbiter, topology.OpTime{} }),
		with("nosidecar", func(c *Candidate) { c.Visible = false }),
		with("unreach", func(c *Candidate) { c.Reachable, c.ReachableBy, c.Grants = false, 1, false }),
		with("recov", func(c *Candidate) { c.State = topology.StateRecovering }),
		with("prio0", func(c *Candidate) { c.Priority = 0 }),
		with("lowprio", func(c *Candidate) { c.Priority = 0.5 }),
		with("hidden", func(c *Candidate) { c.Hidden = true }),
		with("novote", func(c *Candidate) { c.Votes, c.Grants = 0, false }),
		with("frozen", func(c *Candidate) { c.Frozen = true }),
		with("avoided", func(c *Candidate) { c.Zone = "bad" }),
		with("west", func(c *Candidate) { c.Tags = map[string]string{"dc": "west"} }),
		with("laggy", func(c *Candidate) { c.OpTime = topology.MakeOpTime(900, 1, 3) }),
	}
	p := DefaultPolicy()
	p.AvoidZones = []string{"bad"}
	p.RequireTags = map[string]string{"dc": "east"}
	p.MaxLag = 10 * time.Second
	p.MinPriority = 1
	r := Rank(cs, p)
	if best, _ := r.Best(); best.Host != "ok" || len(r.Ranked) != 1 {
		t.Fatalf("ranked = %+v", r.Ranked)
	}
	want := map[string]Exclusion{"prim": ExcludedCurrentPrimary, "arb": ExcludedArbiter, "nosidecar": ExcludedNoSidecar,
		"unreach": ExcludedUnreachable, "recov": ExcludedNotSecondary, "prio0": ExcludedPriorityZero, "lowprio": ExcludedBelowPriority, "hidden": ExcludedHidden,
		"novote": ExcludedNonVoter, "frozen": ExcludedFrozen, "avoided": ExcludedZoneAvoided, "west": ExcludedTags, "laggy": ExcludedLag}
	for _, e := range r.Excluded {
		if want[e.Host] != e.Reason {
			t.Errorf("%s excluded as %s, want %s", e.Host, e.Reason, want[e.Host])
		}
	}
	if len(r.Excluded) != len(want) {
		t.Errorf("excluded %d, want %d", len(r.Excluded), len(want))
	}
}
