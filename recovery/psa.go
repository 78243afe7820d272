package recovery

import (
	"fmt"
	"time"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// PSA mitigation (MongoDB manual, "Mitigate Performance Issues with a Self-Managed PSA Replica
// Set"). In a primary-secondary-arbiter set whose secondary is lost the primary keeps its seat
// (the arbiter's vote), but writeMajorityCount is min(majorityVoteCount 2, data-bearing voters 2)
// = 2, so w:"majority" never completes and the commit point stalls (spec §4.3, §7.4): the
// storage engine keeps all history since the commit point (cache pressure, extra I/O) and the
// oplog grows past its size. Giving the lost secondary votes 0 leaves two voters, primary and
// arbiter: majorityVoteCount stays 2 and both still vote, so elections work as before, while
// writeMajorityCount becomes min(2, 1) = 1: w:"majority" (journaled on the primary, by
// writeConcernMajorityJournalDefault) commits again. The implicit default write concern is {w:1}
// both before and after (arbiters > 0 and data-bearing voters <= majorityVoteCount, spec §4.3),
// so mongod's 5.0+ refusal of reconfigs that change it does not apply.
//
// Coming back takes two more safe reconfigs, never one: votes first (priority still 0), then
// priority. A safe reconfig may add at most one voter (spec §4.5), and mongod refuses making a
// PSA secondary electable in the same step as it regains its vote (spec §4.5 "PSA safety rule",
// rs.reconfigForPSASet()): it may miss majority-committed writes the primary alone acknowledged,
// and only once it votes does the commit point need it again. Votes come back only once the
// member has stayed caught up for RestoreAfter, because from then on w:"majority" waits for it.
//
// The price, which the manual accepts: while the secondary is demoted a w:"majority" write is on
// one data-bearing member only, and if the primary is lost too the arbiter alone elects nobody
// (the demoted member has priority 0). Whoever wires this in makes it opt-in (DESIGN.md
// principle 1) and says so in the audit line.

// PlanPSA says which single reconfig, if any, the PSA mitigation calls for now. It is pure: the
// config, the members as the primary sees them, the times and the options in; a plan out. The
// caller sends NewConfig with a safe replSetReconfig to the primary and plans again on the
// config it then reads back; planning on the resulting config gives the next step, or none.
func PlanPSA(in PSAInput, opts PSAOptions) PSAPlan {
	opts = opts.withDefaults()
	arbiter, data, why := psaShape(in.Config)
	if why != "" {
		return refusePSA(PSARefusedNotPSA, "", why)
	}
	primary, ok := psaMember(in.Members, in.Primary)
	if in.Primary == "" || !ok || primary.State != topology.StatePrimary {
		return refusePSA(PSARefusedNoPrimary, "", noPrimary(in.Primary, primary, ok))
	}
	var sec mongo.ConfigMember
	switch in.Primary {
	case data[0].Host:
		sec = data[1]
	case data[1].Host:
		sec = data[0]
	default:
		return refusePSA(PSARefusedNoPrimary, "", fmt.Sprintf("primary %s is not a data-bearing member of config version %d", in.Primary, in.Config.Version))
	}
	if pm, _ := in.Config.Member(in.Primary); hasTag(pm) {
		return refusePSA(PSARefusedBadTag, in.Primary, fmt.Sprintf("the primary %s carries %s=%q: rsguard never reconfigures the primary", in.Primary, PSADemotedTag, pm.Tags[PSADemotedTag]))
	}
	orig, tagged, err := demotedSettings(sec)
	if err != nil {
		return refusePSA(PSARefusedBadTag, sec.Host, err.Error())
	}
	s, _ := psaMember(in.Members, sec.Host) // absent: zero, i.e. lost since an unknown time
	p := psaPlanner{in: in, opts: opts, primary: primary, arbiter: arbiter, sec: sec, s: s, orig: orig, tagged: tagged}
	switch {
	case s.Lost() && sec.Votes == 0:
		return p.plan(PSANone, PSADemotedWaiting, fmt.Sprintf("%s is demoted (votes 0, priority 0) and still lost: %s", sec.Host, memberSeen(s)))
	case s.Lost():
		return p.demote()
	case sec.Votes == 0:
		return p.restoreVotes()
	case tagged:
		return p.restorePriority()
	}
	return p.plan(PSANone, PSASecondaryReachable, fmt.Sprintf("%s is %s as the primary sees it, votes %d, priority %g", sec.Host, s.State, sec.Votes, sec.Priority))
}

type psaPlanner struct {
	in      PSAInput
	opts    PSAOptions
	primary PSAMember
	arbiter mongo.ConfigMember
	sec     mongo.ConfigMember
	s       PSAMember
	orig    MemberSettings
	tagged  bool
}

func (p psaPlanner) demote() PSAPlan {
	lost := fmt.Sprintf("%s is lost as the primary sees it: %s", p.sec.Host, memberSeen(p.s))
	if p.s.LastHealthy.IsZero() {
		return p.plan(PSANone, PSARefusedNotLostLongEnough, lost, "not known since when: never seen healthy since the watch began")
	}
	if d := p.in.Now.Sub(p.s.LastHealthy); d < p.opts.LostAfter {
		return p.plan(PSANone, PSARefusedNotLostLongEnough, lost, fmt.Sprintf("last healthy %s ago, demotion after %s", d.Round(time.Second), p.opts.LostAfter))
	}
	if !p.tagged { // a demotion between restore_votes and restore_priority keeps the first record
		p.orig = MemberSettings{Votes: p.sec.Votes, Priority: p.sec.Priority}
	}
	next := p.withMember(func(m *mongo.ConfigMember) {
		m.Votes, m.Priority = 0, 0
		m.Tags[PSADemotedTag] = p.orig.String()
	})
	// The primary and the arbiter must stay a voting majority of the new config, or the safe
	// reconfig cannot commit (spec §4.5) and the set could not elect anyway.
	voters, up := next.Voters(), p.healthyVoters(next)
	if majority := voters/2 + 1; up < majority {
		arb, _ := psaMember(p.in.Members, p.arbiter.Host)
		return p.plan(PSANone, PSARefusedArbiterDown, lost, fmt.Sprintf("arbiter %s: %s", p.arbiter.Host, memberSeen(arb)),
			fmt.Sprintf("after demotion %d of %d voters would be healthy, a majority is %d", up, voters, majority))
	}
	return p.reconfig(PSADemote, PSASecondaryLost, next, lost,
		fmt.Sprintf("last healthy %s ago (demotion after %s)", p.in.Now.Sub(p.s.LastHealthy).Round(time.Second), p.opts.LostAfter),
		fmt.Sprintf("votes %d -> 0, priority %g -> 0, recorded in tag %s=%q", p.sec.Votes, p.sec.Priority, PSADemotedTag, p.orig),
		fmt.Sprintf("voters %d: primary %s and arbiter %s, w:\"majority\" needs the primary only", voters, p.primary.Host, p.arbiter.Host))
}

func (p psaPlanner) restoreVotes() PSAPlan {
	ev, ok := p.caughtUp()
	if !ok {
		return p.plan(PSANone, PSARefusedStillBehind, ev...)
	}
	if p.s.CaughtUpSince.IsZero() {
		return p.plan(PSANone, PSARefusedNotCaughtUpLongEnough, append(ev, "not known since when it is caught up")...)
	}
	if d := p.in.Now.Sub(p.s.CaughtUpSince); d < p.opts.RestoreAfter {
		return p.plan(PSANone, PSARefusedNotCaughtUpLongEnough, append(ev, fmt.Sprintf("caught up for %s, votes restored after %s", d.Round(time.Second), p.opts.RestoreAfter))...)
	}
	next := p.withMember(func(m *mongo.ConfigMember) {
		m.Votes = p.orig.Votes
		if p.orig.Priority == 0 { // nothing left for a second step: the record goes now
			delete(m.Tags, PSADemotedTag)
		}
	})
	return p.reconfig(PSARestoreVotes, PSASecondaryCaughtUp, next, append(ev,
		fmt.Sprintf("caught up for %s (votes restored after %s)", p.in.Now.Sub(p.s.CaughtUpSince).Round(time.Second), p.opts.RestoreAfter),
		fmt.Sprintf("votes 0 -> %d, priority stays 0 until the next reconfig", p.orig.Votes))...)
}

func (p psaPlanner) restorePriority() PSAPlan {
	ev, ok := p.caughtUp()
	if !ok {
		return p.plan(PSANone, PSARefusedStillBehind, ev...)
	}
	next := p.withMember(func(m *mongo.ConfigMember) {
		m.Priority = p.orig.Priority
		delete(m.Tags, PSADemotedTag)
	})
	return p.reconfig(PSARestorePriority, PSAVotesRestored, next, append(ev,
		fmt.Sprintf("votes %d already restored; priority %g -> %g, tag %s removed", p.sec.Votes, p.sec.Priority, p.orig.Priority, PSADemotedTag))...)
}

// caughtUp says whether the member is a healthy SECONDARY within CaughtUpLag, and why.
func (p psaPlanner) caughtUp() ([]string, bool) {
	seen := fmt.Sprintf("%s: %s", p.sec.Host, memberSeen(p.s))
	switch {
	case p.s.State != topology.StateSecondary:
		return []string{seen, "not SECONDARY yet"}, false
	case p.primary.OpTime.IsNull() || p.s.OpTime.IsNull():
		return []string{seen, fmt.Sprintf("optimes unknown (primary %s, member %s)", p.primary.OpTime, p.s.OpTime)}, false
	}
	lag := p.s.OpTime.LagBehind(p.primary.OpTime)
	ev := []string{seen, fmt.Sprintf("%s behind the primary (caught up within %s)", lag, p.opts.CaughtUpLag)}
	return ev, p.opts.CaughtUp(p.s, p.primary.OpTime)
}

// healthyVoters counts the voters of c the primary sees healthy, itself included.
func (p psaPlanner) healthyVoters(c mongo.ReplConfig) int {
	n := 0
	for _, m := range c.Members {
		if st, ok := psaMember(p.in.Members, m.Host); m.Voter() && ok && !st.Lost() {
			n++
		}
	}
	return n
}

// withMember is the input config with the secondary edited; the primary and the arbiter are
// never touched.
func (p psaPlanner) withMember(edit func(*mongo.ConfigMember)) mongo.ReplConfig {
	next := p.in.Config.Clone()
	for i := range next.Members {
		if next.Members[i].Host == p.sec.Host {
			m := &next.Members[i] // Clone copied the tags
			if m.Tags == nil {
				m.Tags = map[string]string{}
			}
			edit(m)
			if len(m.Tags) == 0 {
				m.Tags = nil
			}
		}
	}
	return next
}

func (p psaPlanner) reconfig(a PSAAction, r PSAReason, next mongo.ReplConfig, ev ...string) PSAPlan {
	bumped, err := next.Bumped()
	if err != nil {
		return p.plan(PSANone, PSARefusedConfigVersion, append(ev, err.Error())...)
	}
	plan := p.plan(a, r, append(ev, fmt.Sprintf("config version %d -> %d", p.in.Config.Version, bumped.Version))...)
	plan.NewConfig = bumped
	return plan
}

func (p psaPlanner) plan(a PSAAction, r PSAReason, ev ...string) PSAPlan {
	plan := PSAPlan{Action: a, Member: p.sec.Host, Reason: r, Evidence: ev}
	if p.tagged || a == PSADemote {
		plan.Original = p.orig
	}
	return plan
}

func refusePSA(r PSAReason, member string, ev ...string) PSAPlan {
	return PSAPlan{Action: PSANone, Member: member, Reason: r, Evidence: ev}
}

// psaShape checks that c is a three-member PSA set: one arbiter and two data-bearing members,
// both voting or one non-voting by rsguard's own demotion. Other shapes are refused:
//   - without an arbiter (PSS, ...) the data-bearing voters are a majority of the voters, so a
//     lost secondary leaves w:"majority" working: there is nothing to mitigate;
//   - with more members or arbiters (PSSA, PSAA, ...) the write and election majorities differ
//     from PSA's, a fix may need several single-voter steps, and demoting could leave the set
//     without an electable majority: MongoDB documents the procedure for three-member PSA only;
//   - a non-voting data-bearing member without PSADemotedTag, or a newlyAdded one, is someone
//     else's configuration (or mongod's own, in progress, spec §4.5), not ours to change.
func psaShape(c mongo.ReplConfig) (arbiter mongo.ConfigMember, data []mongo.ConfigMember, why string) {
	if len(c.Members) != 3 {
		return arbiter, nil, fmt.Sprintf("config version %d has %d members, a PSA set has 3", c.Version, len(c.Members))
	}
	arbiters := 0
	for _, m := range c.Members {
		switch {
		case m.ArbiterOnly:
			arbiters++
			arbiter = m
		case m.NewlyAdded:
			return arbiter, nil, fmt.Sprintf("%s is newlyAdded: mongod is still adding it", m.Host)
		case m.Votes == 0 && !hasTag(m):
			return arbiter, nil, fmt.Sprintf("%s does not vote and rsguard did not demote it (no %s tag)", m.Host, PSADemotedTag)
		default:
			data = append(data, m)
		}
	}
	if arbiters != 1 {
		return arbiter, nil, fmt.Sprintf("config version %d has %d arbiters and %d data-bearing members, a PSA set has 1 and 2", c.Version, arbiters, len(data))
	}
	return arbiter, data, ""
}

func psaMember(ms []PSAMember, host string) (PSAMember, bool) {
	for _, m := range ms {
		if m.Host == host && host != "" {
			return m, true
		}
	}
	return PSAMember{Host: host}, false
}

func memberSeen(m PSAMember) string {
	health := "healthy"
	if !m.Healthy {
		health = "unhealthy"
	}
	return fmt.Sprintf("%s, %s", m.State, health)
}

func noPrimary(host string, m PSAMember, listed bool) string {
	switch {
	case host == "":
		return "no member is PRIMARY: only a primary can run a safe reconfig (spec §4.5)"
	case !listed:
		return fmt.Sprintf("%s is named primary but absent from the members' states", host)
	}
	return fmt.Sprintf("%s is named primary but reports %s", host, m.State)
}
