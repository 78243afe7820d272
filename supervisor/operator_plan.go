package supervisor

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// Plans of the operator's switchover, failover and resync: pure functions of the cluster view
// and the shared memory. They fill r (executor, from, to, steps) or refuse it with a reason code;
// a request naming no member of the set is an *api.Error naming the field.

// switchoverStepDownSecs is the replSetStepDown period of a switchover: the old primary stays
// unelectable that long (spec §6.1), so it cannot win back the election it hands off.
// switchoverCatchUpSecs bounds the stepdown's wait for an electable secondary to catch up.
const (
	switchoverStepDownSecs = 30
	switchoverCatchUpSecs  = 10
	switchoverFreezeSecs   = 20
)

func refuse(r *api.ActionResult, reason, format string, args ...any) error {
	r.State, r.Reason, r.Message = api.StateRefused, reason, fmt.Sprintf(format, args...)
	return nil
}

func findMember(c api.Cluster, host string) (api.Member, bool) {
	for _, m := range c.Members {
		if m.Host == host {
			return m, true
		}
	}
	return api.Member{}, false
}

func sidecarUp(c api.Cluster, id string) bool {
	for _, sc := range c.Sidecars {
		if sc.ID == id {
			return sc.Alive && sc.Ready
		}
	}
	return false
}

func electable(m api.Member) bool { return m.Priority > 0 && m.Votes > 0 && !m.Hidden && !m.Arbiter }

// checkTarget reports whether m can become primary now, and refuses r with the reason when not.
func checkTarget(r *api.ActionResult, m api.Member, mem topology.Memory, maxLag time.Duration, force bool, now time.Time) bool {
	switch {
	case m.State == "PRIMARY" && m.Healthy:
		refuse(r, refusedTargetPrimary, "%s is already the primary", m.Host)
	case !m.Healthy || m.State != "SECONDARY":
		refuse(r, refusedTargetUnhealthy, "%s is %s, not a healthy SECONDARY", m.Host, m.State)
	case !electable(m):
		refuse(r, refusedTargetUnelectable, "%s cannot be elected (priority %g, votes %d, hidden %t, arbiter %t)", m.Host, m.Priority, m.Votes, m.Hidden, m.Arbiter)
	case now.Before(election.FrozenUntil(mem, m.Host)):
		refuse(r, refusedTargetFrozen, "%s is unelectable until %s (freeze or stepdown period)", m.Host, election.FrozenUntil(mem, m.Host).UTC().Format(time.RFC3339))
	case !force && maxLag > 0 && m.LagSecs > maxLag.Seconds():
		refuse(r, refusedTargetLagging, "%s lags %.1fs behind the primary, more than failover.candidates.max_lag (%s)", m.Host, m.LagSecs, maxLag)
	default:
		return true
	}
	return false
}

func busy(r *api.ActionResult, mem topology.Memory, now time.Time) bool {
	if other, ok := election.ActiveRequest(mem, now); ok {
		refuse(r, refusedBusy, "operator request %s (%s) is still %s: one at a time", other.ID, other.Action, map[int]string{0: "pending", 1: "running"}[other.Stage])
		return true
	}
	return false
}

// planSwitchover: the primary's own sidecar waits until the target has caught up, freezes the
// other electable secondaries (so MongoDB's election handoff cannot pick one of them), steps
// the primary down (writes stop while it waits for a caught-up secondary: no rollback), steps
// the target up, and unfreezes the others.
func planSwitchover(r *api.ActionResult, c api.Cluster, mem topology.Memory, to string, maxLag time.Duration, now time.Time) error {
	if c.Primary == "" {
		return refuse(r, refusedNoPrimary, "no writable primary to hand over from: use failover --to")
	}
	if !c.Quorum.Has {
		return refuse(r, refusedNoQuorum, "no sidecar quorum: %d of %d visible", len(c.Quorum.Visible), c.Quorum.Configured)
	}
	if busy(r, mem, now) {
		return nil
	}
	r.From = c.Primary
	var target api.Member
	if to != "" {
		m, ok := findMember(c, to)
		if !ok {
			return api.NotFound("to", "%s is not a member of replica set %s", to, c.Set)
		}
		if !checkTarget(r, m, mem, maxLag, false, now) {
			return nil
		}
		target = m
	} else {
		var cands []api.Member
		for _, m := range c.Members {
			var probe api.ActionResult
			if checkTarget(&probe, m, mem, maxLag, false, now) {
				cands = append(cands, m)
			}
		}
		if len(cands) == 0 {
			return refuse(r, refusedNoCandidate, "no healthy, electable, caught-up secondary to hand over to")
		}
		slices.SortFunc(cands, func(a, b api.Member) int {
			return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(a.LagSecs, b.LagSecs), cmp.Compare(a.Host, b.Host))
		})
		target = cands[0]
	}
	r.To = target.Host
	p, _ := findMember(c, c.Primary)
	if p.Sidecar == "" || !sidecarUp(c, p.Sidecar) {
		return refuse(r, refusedNoExecutor, "the primary's own sidecar (%q) is not visible and ready: it runs the stepdown", p.Sidecar)
	}
	r.Executor = p.Sidecar
	r.Steps = append(r.Steps, api.Step{Do: "wait_catch_up", Host: target.Host, Detail: fmt.Sprintf("until %s has applied the primary's last write (at most %ds)", target.Host, switchoverCatchUpSecs)})
	var others []string
	for _, m := range c.Members {
		if m.Host != target.Host && m.Host != c.Primary && m.Healthy && electable(m) {
			others = append(others, m.Host)
		}
	}
	for _, h := range others {
		r.Steps = append(r.Steps, api.Step{Do: "freeze", Host: h, Detail: fmt.Sprintf("replSetFreeze %d: it still votes but cannot be elected", switchoverFreezeSecs)})
	}
	r.Steps = append(r.Steps,
		api.Step{Do: "step_down", Host: c.Primary, Detail: fmt.Sprintf("replSetStepDown %d, secondaryCatchUpPeriodSecs %d: writes stop until a secondary has them all", switchoverStepDownSecs, switchoverCatchUpSecs)},
		api.Step{Do: "step_up", Host: target.Host, Detail: "replSetStepUp, then wait until it is the writable primary"})
	for _, h := range others {
		r.Steps = append(r.Steps, api.Step{Do: "unfreeze", Host: h, Detail: "replSetFreeze 0"})
	}
	return nil
}

// planFailover: the target's own sidecar steps its mongod up at once, without waiting for
// catch-up. On a healthy primary that can roll back w:1 writes, so it needs force there.
func planFailover(r *api.ActionResult, c api.Cluster, mem topology.Memory, to string, force bool, maxLag time.Duration, now time.Time) error {
	m, ok := findMember(c, to)
	if !ok {
		return api.NotFound("to", "%s is not a member of replica set %s", to, c.Set)
	}
	if busy(r, mem, now) {
		return nil
	}
	r.From, r.To = c.Primary, m.Host
	if c.Primary != "" && !force {
		return refuse(r, refusedPrimaryHealthy, "%s is a writable primary: use switchover (planned, no rollback), or failover with force", c.Primary)
	}
	if !checkTarget(r, m, mem, maxLag, force, now) {
		return nil
	}
	if m.Sidecar == "" || !sidecarUp(c, m.Sidecar) {
		return refuse(r, refusedNoExecutor, "%s's own sidecar (%q) is not visible and ready: it runs the step-up", m.Host, m.Sidecar)
	}
	r.Executor = m.Sidecar
	r.Steps = []api.Step{{Do: "step_up", Host: m.Host, Detail: "replSetStepUp, then wait until it is the writable primary; MongoDB's election still decides"}}
	return nil
}

// planResync: the member's own sidecar resyncs it (recovery's resync plan), with every guard
// of an automatic resync but "is it needed", the window and recovery.resync's mode: an operator
// asked.
func planResync(r *api.ActionResult, c api.Cluster, mem topology.Memory, member string, now time.Time) error {
	m, ok := findMember(c, member)
	if !ok {
		return api.NotFound("member", "%s is not a member of replica set %s", member, c.Set)
	}
	if busy(r, mem, now) {
		return nil
	}
	r.From, r.To = c.Primary, m.Host
	switch {
	case m.Host == c.Primary:
		return refuse(r, refusedMemberPrimary, "%s is the primary: switch over first", m.Host)
	case c.Primary == "":
		return refuse(r, refusedNoPrimary, "no writable primary to resync %s from", m.Host)
	case m.Arbiter:
		return refuse(r, refusedTargetUnelectable, "%s is an arbiter: it holds no data", m.Host)
	case m.Sidecar == "" || !sidecarUp(c, m.Sidecar):
		return refuse(r, refusedNoExecutor, "%s's own sidecar (%q) is not visible and ready: it stops and restarts the mongod", m.Host, m.Sidecar)
	}
	r.Executor = m.Sidecar
	r.Steps = []api.Step{
		{Do: "stop", Host: m.Host, Detail: "stop mongod through the process controller"},
		{Do: "move_aside", Host: m.Host, Detail: "keep the old dbpath beside it (recovery.resync_keep)"},
		{Do: "start", Host: m.Host, Detail: "start mongod on an empty dbpath"},
		{Do: "initial_sync", Host: m.Host, Detail: "wait until it is SECONDARY again"},
	}
	return nil
}
