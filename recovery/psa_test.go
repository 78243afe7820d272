package recovery

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

const (
	psaP = "p:27017"
	psaS = "s:27017"
	psaA = "a:27017"
)

// cfgMember is one members[] entry of a test config; only what it sets is written, so mongod's
// defaults apply to the rest as they do when reading a real config.
type cfgMember struct {
	host     string
	arbiter  bool
	votes    *int
	priority *float64
	tags     map[string]string
}

func psaConfig(t *testing.T, version int, ms ...cfgMember) mongo.ReplConfig {
	t.Helper()
	var members bson.A
	for i, m := range ms {
		d := bson.D{{Key: "_id", Value: int32(i)}, {Key: "host", Value: m.host}}
		if m.arbiter {
			d = append(d, bson.E{Key: "arbiterOnly", Value: true})
		}
		if m.priority != nil {
			d = append(d, bson.E{Key: "priority", Value: *m.priority})
		}
		if m.votes != nil {
			d = append(d, bson.E{Key: "votes", Value: int32(*m.votes)})
		}
		if m.tags != nil {
			tags := bson.D{}
			for k, v := range m.tags {
				tags = append(tags, bson.E{Key: k, Value: v})
			}
			d = append(d, bson.E{Key: "tags", Value: tags})
		}
		members = append(members, d)
	}
	raw, err := bson.Marshal(bson.D{{Key: "_id", Value: "rs0"}, {Key: "version", Value: int32(version)},
		{Key: "term", Value: int64(4)}, {Key: "protocolVersion", Value: int64(1)}, {Key: "members", Value: members},
		{Key: "settings", Value: bson.D{{Key: "getLastErrorModes", Value: bson.D{}},
			{Key: "replicaSetId", Value: bson.ObjectID{0x66, 0x50}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return mongo.DecodeConfig(raw)
}

func ptr[T any](v T) *T { return &v }

func standardPSA(t *testing.T) mongo.ReplConfig {
	return psaConfig(t, 7, cfgMember{host: psaP}, cfgMember{host: psaS}, cfgMember{host: psaA, arbiter: true})
}

// demotedPSA is the config after rsguard's demotion of s (votes 0, priority 0, tag).
func demotedPSA(t *testing.T, tag string) mongo.ReplConfig {
	return psaConfig(t, 8, cfgMember{host: psaP},
		cfgMember{host: psaS, votes: ptr(0), priority: ptr(0.0), tags: map[string]string{PSADemotedTag: tag}},
		cfgMember{host: psaA, arbiter: true})
}

// votesRestoredPSA is the config after restore_votes: s votes, priority still 0, tag kept.
func votesRestoredPSA(t *testing.T) mongo.ReplConfig {
	return psaConfig(t, 9, cfgMember{host: psaP},
		cfgMember{host: psaS, priority: ptr(0.0), tags: map[string]string{PSADemotedTag: "votes=1,priority=1"}},
		cfgMember{host: psaA, arbiter: true})
}

var primaryOpTime = topology.MakeOpTime(1_735_690_000, 1, 4)

// psaMembers is a healthy PSA as the primary sees it at t0, s caught up for a minute.
func psaMembers() []PSAMember {
	return []PSAMember{
		{Host: psaP, State: topology.StatePrimary, Healthy: true, OpTime: primaryOpTime, LastHealthy: t0},
		{Host: psaS, State: topology.StateSecondary, Healthy: true, OpTime: topology.MakeOpTime(1_735_689_999, 1, 4),
			LastHealthy: t0, CaughtUpSince: t0.Add(-time.Minute)},
		{Host: psaA, State: topology.StateArbiter, Healthy: true, LastHealthy: t0},
	}
}

// secondary edits s as the primary sees it.
func secondary(edits ...func(*PSAMember)) []PSAMember {
	ms := psaMembers()
	for _, edit := range edits {
		edit(&ms[1])
	}
	return ms
}

func lostFor(d time.Duration) func(*PSAMember) {
	return func(m *PSAMember) {
		m.State, m.Healthy, m.LastHealthy, m.CaughtUpSince = topology.StateDown, false, t0.Add(-d), time.Time{}
	}
}

func TestPlanPSA(t *testing.T) {
	opts := DefaultPSAOptions()
	tests := []struct {
		name    string
		cfg     func(*testing.T) mongo.ReplConfig
		primary string
		members []PSAMember
		action  PSAAction
		reason  PSAReason
		ev      string // a piece of the evidence
	}{
		// The cases that must not lead to a reconfig.
		{"healthy PSA", standardPSA, psaP, psaMembers(), PSANone, PSASecondaryReachable, "SECONDARY"},
		{"PSS with a lost secondary: w:majority still has two data-bearing voters", func(t *testing.T) mongo.ReplConfig {
			return psaConfig(t, 7, cfgMember{host: psaP}, cfgMember{host: psaS}, cfgMember{host: psaA})
		}, psaP, secondary(lostFor(time.Hour)), PSANone, PSARefusedNotPSA, "0 arbiters"},
		{"PSSA is not PSA", func(t *testing.T) mongo.ReplConfig {
			return psaConfig(t, 7, cfgMember{host: psaP}, cfgMember{host: psaS}, cfgMember{host: "s2:27017"}, cfgMember{host: psaA, arbiter: true})
		}, psaP, secondary(lostFor(time.Hour)), PSANone, PSARefusedNotPSA, "4 members"},
		{"a non-voter rsguard did not demote is not ours", func(t *testing.T) mongo.ReplConfig {
			return psaConfig(t, 7, cfgMember{host: psaP}, cfgMember{host: psaS, votes: ptr(0), priority: ptr(0.0)}, cfgMember{host: psaA, arbiter: true})
		}, psaP, psaMembers(), PSANone, PSARefusedNotPSA, "did not demote"},
		{"lost for less than LostAfter", standardPSA, psaP, secondary(lostFor(10 * time.Second)), PSANone, PSARefusedNotLostLongEnough, "last healthy 10s ago"},
		{"lost since an unknown time", standardPSA, psaP, secondary(lostFor(time.Hour), func(m *PSAMember) { m.LastHealthy = time.Time{} }),
			PSANone, PSARefusedNotLostLongEnough, "not known since when"},
		{"no primary", standardPSA, "", secondary(lostFor(time.Hour)), PSANone, PSARefusedNoPrimary, "no member is PRIMARY"},
		{"the named primary no longer reports PRIMARY", standardPSA, psaP, func() []PSAMember {
			ms := secondary(lostFor(time.Hour))
			ms[0].State = topology.StateSecondary
			return ms
		}(), PSANone, PSARefusedNoPrimary, "reports SECONDARY"},
		{"arbiter down too: primary alone is no majority of the demoted config", standardPSA, psaP, func() []PSAMember {
			ms := secondary(lostFor(time.Hour))
			ms[2].State, ms[2].Healthy = topology.StateDown, false
			return ms
		}(), PSANone, PSARefusedArbiterDown, "1 of 2 voters"},
		{"demoted and still lost: the mitigation is in place", func(t *testing.T) mongo.ReplConfig { return demotedPSA(t, "votes=1,priority=1") },
			psaP, secondary(lostFor(time.Hour)), PSANone, PSADemotedWaiting, "still lost"},
		{"demoted, back but lagging", func(t *testing.T) mongo.ReplConfig { return demotedPSA(t, "votes=1,priority=1") }, psaP,
			secondary(func(m *PSAMember) { m.OpTime, m.CaughtUpSince = topology.MakeOpTime(1_735_689_900, 1, 4), time.Time{} }),
			PSANone, PSARefusedStillBehind, "1m40s behind"},
		{"demoted, back but RECOVERING", func(t *testing.T) mongo.ReplConfig { return demotedPSA(t, "votes=1,priority=1") }, psaP,
			secondary(func(m *PSAMember) { m.State, m.CaughtUpSince = topology.StateRecovering, time.Time{} }),
			PSANone, PSARefusedStillBehind, "not SECONDARY yet"},
		{"demoted, caught up for less than RestoreAfter", func(t *testing.T) mongo.ReplConfig { return demotedPSA(t, "votes=1,priority=1") }, psaP,
			secondary(func(m *PSAMember) { m.CaughtUpSince = t0.Add(-3 * time.Second) }),
			PSANone, PSARefusedNotCaughtUpLongEnough, "caught up for 3s"},
		{"votes restored but behind again: priority waits", votesRestoredPSA, psaP,
			secondary(func(m *PSAMember) { m.OpTime = topology.MakeOpTime(1_735_689_900, 1, 4) }),
			PSANone, PSARefusedStillBehind, "1m40s behind"},
		{"unreadable tag is never restored", func(t *testing.T) mongo.ReplConfig { return demotedPSA(t, "votes=1,priority=high") }, psaP,
			psaMembers(), PSANone, PSARefusedBadTag, "priority must be"},
		{"a tag recording a non-voter is not rsguard's", func(t *testing.T) mongo.ReplConfig { return demotedPSA(t, "votes=0,priority=0") }, psaP,
			psaMembers(), PSANone, PSARefusedBadTag, "demotes voters only"},
		{"a tagged primary is never reconfigured", func(t *testing.T) mongo.ReplConfig {
			return psaConfig(t, 7, cfgMember{host: psaP, tags: map[string]string{PSADemotedTag: "votes=1,priority=1"}}, cfgMember{host: psaS}, cfgMember{host: psaA, arbiter: true})
		}, psaP, secondary(lostFor(time.Hour)), PSANone, PSARefusedBadTag, "never reconfigures the primary"},
		{"secondary absent from the primary's view: lost since an unknown time", standardPSA, psaP,
			[]PSAMember{psaMembers()[0], psaMembers()[2]}, PSANone, PSARefusedNotLostLongEnough, "not known since when"},

		// The cases that call for a reconfig.
		{"lost long enough", standardPSA, psaP, secondary(lostFor(time.Minute)), PSADemote, PSASecondaryLost, "last healthy 1m0s ago"},
		{"votes restored while lost again: demoted again", votesRestoredPSA, psaP, secondary(lostFor(time.Minute)), PSADemote, PSASecondaryLost, "votes 1 -> 0"},
		{"demoted, caught up long enough", func(t *testing.T) mongo.ReplConfig { return demotedPSA(t, "votes=1,priority=1") }, psaP,
			psaMembers(), PSARestoreVotes, PSASecondaryCaughtUp, "caught up for 1m0s"},
		{"votes restored and caught up", votesRestoredPSA, psaP, psaMembers(), PSARestorePriority, PSAVotesRestored, "priority 0 -> 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := PSAInput{Config: tt.cfg(t), Primary: tt.primary, Members: tt.members, Now: t0}
			got := PlanPSA(in, opts)
			if got.Action != tt.action || got.Reason != tt.reason {
				t.Fatalf("got %s/%s, want %s/%s; evidence %q", got.Action, got.Reason, tt.action, tt.reason, got.Evidence)
			}
			if !strings.Contains(strings.Join(got.Evidence, "; "), tt.ev) {
				t.Errorf("evidence %q lacks %q", got.Evidence, tt.ev)
			}
			if got.Action == PSANone && got.NewConfig.Members != nil {
				t.Errorf("no action but a new config: %+v", got.NewConfig)
			}
			if got.Action != PSANone {
				checkStep(t, in.Config, got)
			}
		})
	}
}

func secondaryMember(t *testing.T, c mongo.ReplConfig) mongo.ConfigMember {
	t.Helper()
	m, ok := c.Member(psaS)
	if !ok {
		t.Fatalf("%s missing from %+v", psaS, c.Members)
	}
	return m
}

// checkStep asserts what every PSA reconfig must respect: version + 1, at most one voting change
// (spec §4.5), the primary and the arbiter untouched, fields the planner does not model kept.
func checkStep(t *testing.T, old mongo.ReplConfig, plan PSAPlan) {
	t.Helper()
	next := plan.NewConfig
	if plan.Member != psaS {
		t.Errorf("member %q, want %s", plan.Member, psaS)
	}
	if next.Version != old.Version+1 {
		t.Errorf("version %d -> %d, want +1", old.Version, next.Version)
	}
	voters := func(c mongo.ReplConfig) (ids []int) {
		for _, m := range c.Members {
			if m.Voter() {
				ids = append(ids, m.ID)
			}
		}
		return ids
	}
	a, b := voters(old), voters(next)
	diff := 0
	for _, id := range a {
		if !slices.Contains(b, id) {
			diff++
		}
	}
	for _, id := range b {
		if !slices.Contains(a, id) {
			diff++
		}
	}
	if diff > 1 {
		t.Errorf("voters %v -> %v: more than one voting change", a, b)
	}
	for _, host := range []string{psaP, psaA} {
		was, _ := old.Member(host)
		now, _ := next.Member(host)
		if was.Votes != now.Votes || was.Priority != now.Priority || len(now.Tags) != len(was.Tags) || was.ArbiterOnly != now.ArbiterOnly {
			t.Errorf("%s touched: %+v -> %+v", host, was, now)
		}
	}
	if next.Settings.ReplicaSetID != old.Settings.ReplicaSetID || next.Raw.Lookup("settings", "getLastErrorModes").Type != bson.TypeEmbeddedDocument {
		t.Errorf("settings not kept: %+v", next.Settings)
	}
}

// The whole mitigation on one set: each step plans on the config the previous one produced, and
// planning again without a change in the members gives nothing to do (idempotence).
func TestPlanPSALifecycle(t *testing.T) {
	opts := DefaultPSAOptions()
	cfg := psaConfig(t, 7, cfgMember{host: psaP, priority: ptr(2.0)}, cfgMember{host: psaS, priority: ptr(0.5)}, cfgMember{host: psaA, arbiter: true})
	step := func(members []PSAMember, want PSAAction) PSAPlan {
		t.Helper()
		plan := PlanPSA(PSAInput{Config: cfg, Primary: psaP, Members: members, Now: t0}, opts)
		if plan.Action != want {
			t.Fatalf("config v%d: got %s/%s, want %s; evidence %q", cfg.Version, plan.Action, plan.Reason, want, plan.Evidence)
		}
		if want != PSANone {
			checkStep(t, cfg, plan)
			cfg = plan.NewConfig
		}
		return plan
	}
	lost, back := secondary(lostFor(time.Minute)), psaMembers()

	plan := step(lost, PSADemote)
	s := secondaryMember(t, cfg)
	if s.Votes != 0 || s.Priority != 0 || s.Tags[PSADemotedTag] != "votes=1,priority=0.5" || plan.Original != (MemberSettings{1, 0.5}) {
		t.Fatalf("demoted member %+v, original %+v", s, plan.Original)
	}
	if cfg.Voters() != 2 {
		t.Errorf("voters after demotion %d, want primary and arbiter", cfg.Voters())
	}
	if got := step(lost, PSANone); got.Reason != PSADemotedWaiting {
		t.Errorf("demoted again? %s", got.Reason)
	}

	step(back, PSARestoreVotes)
	s = secondaryMember(t, cfg)
	if s.Votes != 1 || s.Priority != 0 || s.Tags[PSADemotedTag] == "" {
		t.Fatalf("after restore_votes %+v: want votes 1, priority 0, tag kept", s)
	}

	step(back, PSARestorePriority)
	s = secondaryMember(t, cfg)
	if s.Votes != 1 || s.Priority != 0.5 || len(s.Tags) != 0 {
		t.Fatalf("after restore_priority %+v: want votes 1, priority 0.5, no tag", s)
	}
	if cfg.Version != 10 {
		t.Errorf("version %d after three reconfigs from 7", cfg.Version)
	}
	if got := step(back, PSANone); got.Reason != PSASecondaryReachable {
		t.Errorf("after the restore: %s", got.Reason)
	}
}

// A secondary that had priority 0 before its demotion needs no priority step: restore_votes
// removes the tag and the mitigation is over.
func TestPlanPSAPriorityZeroSecondary(t *testing.T) {
	cfg := demotedPSA(t, "votes=1,priority=0")
	plan := PlanPSA(PSAInput{Config: cfg, Primary: psaP, Members: psaMembers(), Now: t0}, PSAOptions{})
	if plan.Action != PSARestoreVotes {
		t.Fatalf("got %s/%s", plan.Action, plan.Reason)
	}
	if s := secondaryMember(t, plan.NewConfig); s.Votes != 1 || s.Priority != 0 || len(s.Tags) != 0 {
		t.Fatalf("restored %+v", s)
	}
	again := PlanPSA(PSAInput{Config: plan.NewConfig, Primary: psaP, Members: psaMembers(), Now: t0}, PSAOptions{})
	if again.Action != PSANone || again.Reason != PSASecondaryReachable {
		t.Errorf("then %s/%s", again.Action, again.Reason)
	}
}

func TestMemberSettingsTag(t *testing.T) {
	for _, s := range []MemberSettings{{1, 1}, {1, 0.5}, {1, 0}, {1, 1000}} {
		got, err := ParseMemberSettings(s.String())
		if err != nil || got != s {
			t.Errorf("%q -> %+v, %v", s.String(), got, err)
		}
	}
	for _, bad := range []string{"", "votes=1", "votes=2,priority=1", "votes=1,priority=-1", "votes=0,priority=1", "votes=1,priority=1,x=2", "votes=1,votes=1"} {
		if _, err := ParseMemberSettings(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// CaughtUp is the definition the caller tracks PSAMember.CaughtUpSince with.
func TestPSACaughtUp(t *testing.T) {
	opts := PSAOptions{}
	at := func(secs uint32, edit ...func(*PSAMember)) PSAMember {
		m := psaMembers()[1]
		m.OpTime = topology.MakeOpTime(secs, 1, 4)
		for _, e := range edit {
			e(&m)
		}
		return m
	}
	p := primaryOpTime.Secs()
	for _, tt := range []struct {
		name string
		m    PSAMember
		want bool
	}{
		{"10s behind", at(p - 10), true},
		{"11s behind", at(p - 11), false},
		{"RECOVERING", at(p, func(m *PSAMember) { m.State = topology.StateRecovering }), false},
		{"unhealthy", at(p, func(m *PSAMember) { m.Healthy = false }), false},
		{"no optime", at(p, func(m *PSAMember) { m.OpTime = topology.NullOpTime }), false},
	} {
		if got := opts.CaughtUp(tt.m, primaryOpTime); got != tt.want {
			t.Errorf("%s: CaughtUp %v", tt.name, got)
		}
	}
	if opts.CaughtUp(at(p), topology.NullOpTime) {
		t.Error("caught up with a primary of unknown optime")
	}
}
