package recovery

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// Re-add (the recovery issue, deliverable 5): a member the sidecars' configuration lists (their
// members[] is the operator's intent) but the replica set's config no longer holds, typically
// after a force reconfig that dropped it while it was down, is added back once its mongod
// answers. Two safe reconfigs, at most one voting change each (spec §4.5):
//
//  1. add it as a voter with priority 0: mongod stores a new voter as newlyAdded and counts its
//     vote only once its initial sync is over, and priority 0 keeps a member still catching up
//     from standing for election. ReAddedTag records the priority to restore.
//  2. once it is SECONDARY and caught up, restore its priority and drop the tag.
//
// An operator who removes a member on purpose removes it from the sidecars' members[] too; a
// member in neither is never touched.

// ReAddedTag marks a member re-added by rsguard whose priority is still to restore; its value is
// the priority.
const ReAddedTag = "rsguard_readded"

// ReAddAction is what the planner says to do.
type ReAddAction string

// Re-add actions.
const (
	ReAddNone            ReAddAction = "none"
	ReAddMember          ReAddAction = "re_add"
	ReAddRestorePriority ReAddAction = "re_add_restore_priority"
)

// Re-add reasons.
const (
	ReAddMissing             = "member_missing_from_config"
	ReAddCaughtUp            = "re_added_member_caught_up"
	RefusedReAddNotAnswering = "refused_re_add_not_answering"
	RefusedReAddPending      = "refused_re_add_pending"
	RefusedReAddNotCaughtUp  = "refused_re_add_not_caught_up"
	RefusedReAddConfig       = "refused_re_add_config"
)

// ReAddInput is what the primary's sidecar knows.
type ReAddInput struct {
	// Config is the replica set's config, read from the primary.
	Config mongo.ReplConfig
	// Wanted are the data members' mongods the sidecars' configuration lists.
	Wanted []string
	// Answering says which wanted mongods answer a hello (a removed one answers: REMOVED).
	Answering map[string]bool
	// Members are the members' states as the primary sees them; CaughtUp those within the lag
	// the caller allows.
	States   map[string]topology.MemberState
	CaughtUp map[string]bool
}

// ReAddPlan is the planner's answer.
type ReAddPlan struct {
	Action    ReAddAction
	Member    string
	Reason    string
	NewConfig mongo.ReplConfig
	Evidence  []string
}

// PlanReAdd decides the next re-add step; pure.
func PlanReAdd(in ReAddInput) ReAddPlan {
	// Step 2 first: a re-added member finishes before another starts.
	for i, m := range in.Config.Members {
		prio, ok := m.Tags[ReAddedTag]
		if !ok {
			continue
		}
		p, err := strconv.ParseFloat(prio, 64)
		if err != nil || p < 0 || p > 1000 {
			return ReAddPlan{Action: ReAddNone, Member: m.Host, Reason: RefusedReAddConfig,
				Evidence: []string{fmt.Sprintf("tag %s=%q is not a priority", ReAddedTag, prio)}}
		}
		if in.States[m.Host] != topology.StateSecondary || !in.CaughtUp[m.Host] || m.NewlyAdded {
			return ReAddPlan{Action: ReAddNone, Member: m.Host, Reason: RefusedReAddNotCaughtUp,
				Evidence: []string{fmt.Sprintf("%s is %s, caught up %v: its priority %s is restored once it is a caught-up SECONDARY", m.Host, in.States[m.Host], in.CaughtUp[m.Host], prio)}}
		}
		next := in.Config.Clone()
		nm := &next.Members[i]
		nm.Priority = p
		delete(nm.Tags, ReAddedTag)
		if len(nm.Tags) == 0 {
			nm.Tags = nil
		}
		return reAddReconfig(in, ReAddRestorePriority, m.Host, ReAddCaughtUp, next,
			fmt.Sprintf("%s is a caught-up SECONDARY: priority %s restored", m.Host, prio))
	}
	if slices.ContainsFunc(in.Config.Members, func(m mongo.ConfigMember) bool { return m.NewlyAdded }) {
		return ReAddPlan{Action: ReAddNone, Reason: RefusedReAddPending, Evidence: []string{"a newlyAdded member is still syncing (spec §4.5): one at a time"}}
	}
	for _, host := range in.Wanted {
		if slices.ContainsFunc(in.Config.Members, func(m mongo.ConfigMember) bool { return m.Host == host }) {
			continue
		}
		if !in.Answering[host] {
			return ReAddPlan{Action: ReAddNone, Member: host, Reason: RefusedReAddNotAnswering,
				Evidence: []string{fmt.Sprintf("%s is in the sidecars' members but not in the replica set config, and its mongod does not answer: re-added once it does", host)}}
		}
		next := in.Config.Clone()
		id := 0
		for _, m := range next.Members {
			id = max(id, m.ID+1)
		}
		nm := mongo.NewConfigMember(id, host)
		nm.Priority = 0
		nm.Tags = map[string]string{ReAddedTag: "1"}
		next.Members = append(next.Members, nm)
		return reAddReconfig(in, ReAddMember, host, ReAddMissing, next,
			fmt.Sprintf("%s is in the sidecars' members but not in the replica set config, and its mongod answers: added back as _id %d, a voter (newlyAdded until synced) with priority 0 until caught up", host, id))
	}
	return ReAddPlan{Action: ReAddNone}
}

func reAddReconfig(in ReAddInput, a ReAddAction, host, reason string, next mongo.ReplConfig, ev string) ReAddPlan {
	bumped, err := next.Bumped()
	if err != nil {
		return ReAddPlan{Action: ReAddNone, Member: host, Reason: RefusedReAddConfig, Evidence: []string{ev, err.Error()}}
	}
	return ReAddPlan{Action: a, Member: host, Reason: reason, NewConfig: bumped,
		Evidence: []string{ev, fmt.Sprintf("config version %d -> %d", in.Config.Version, bumped.Version)}}
}
