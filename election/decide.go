package election

import (
	"time"

	"github.com/rsguard/rsguard/topology"
)

// Decide classifies the snapshot, works out what the rules call for, and passes it through the
// gates, in order: policy disabled, paused, no executor, already pending, anti-flap, dry run, not
// the executor (election/executor.go). It returns the decision and the next state; now is the
// decision time (anti-flap, pending deadlines), snap.Now the observation time. Decide never fails: at worst it refuses with a reason.
func Decide(snap topology.Snapshot, st State, p Policy, now time.Time) (Decision, State) {
	a := Classify(snap, p)
	d := Decision{Analysis: a, Coordinator: snap.Coordinator(), Action: Action{Kind: None}, Proposed: Action{Kind: None}}
	st = st.expire(now, a).syncMemory(now, p)
	snap = withFreezes(snap, st.Memory)
	prop, why := propose(snap, st, p, now, &d)
	d.Proposed, d.Reason = prop, why
	if prop.IsNone() {
		d.Proposed = Action{Kind: None}
		return d, st
	}
	inc := incidentOf(snap, a)
	st = st.noteIncident(snap.Self, inc, a, now)
	failover := prop.Kind == StepUp || prop.Kind == StepDown
	exec, noExec := executorOf(snap, prop)
	prop.Executor, d.Executor = exec, exec
	d.Proposed = prop
	switch {
	case !p.Enabled:
		d.Reason = RefusedPolicyDisabled
	case st.Paused():
		// An operator paused automation (Supervisor.Pause): every sidecar refuses, whoever
		// executes.
		d.Reason = RefusedPaused
	case operatorBusy(st, now):
		// An operator's switchover, failover or resync is under way (requests.go): the set
		// is changing on purpose, and the transient it causes is not an incident.
		d.Reason = RefusedOperatorAction
	case exec == "":
		// Nobody visible can carry it out (election/executor.go).
		d.Reason = noExec
	case st.pendingForAnyExecutor(prop, inc, now):
		d.Reason = RefusedActionPending
		if exec != snap.Self {
			d.Reason = RefusedNotExecutor // it was addressed to another sidecar: still not ours
		}
	case failover && st.antiFlapBlocks(inc, now, p):
		d.Reason = RefusedAntiFlap
	case p.DryRun:
		d.Reason = RefusedDryRun
	case exec != snap.Self:
		// Addressed to another sidecar. Only the executor records what it issues, in the
		// shared memory (memory_state.go remember), which every sidecar then merges: a record
		// written here would claim a failover nobody may have carried out.
		d.Reason = RefusedNotExecutor
	default:
		d.Action = prop
		st.Pending = Pending{Action: prop, Incident: inc, Deadline: now.Add(p.PendingTimeout)}
		if failover && st.LastFailover.Incident != inc {
			st.LastFailover = Failover{At: now, Incident: inc, To: prop.Host, Reason: why}
		}
		st = st.remember(snap.Self, prop, inc, why, failover, now, p)
	}
	return d, st
}

// propose is the rule table: what each analysis calls for, before the gates.
func propose(snap topology.Snapshot, st State, p Policy, now time.Time, d *Decision) (Action, Reason) {
	a := d.Analysis
	switch a.Kind {
	case PrimaryProcessDead, PrimaryProcessUnresponsive, PrimaryHostUnreachable:
		return stepUpBest(snap, a.Primary, false, p, d, kindReason[a.Kind])
	case SickPrimary:
		if p.SickStepDown {
			return target(snap, StepDown, a.Primary, p.stepDownSecs()), ReasonSickPrimary
		}
		// failover-notes: replSetStepUp on a caught-up secondary is quicker than a stepdown
		// that must wait for the stalled write's locks (spec §6.1).
		act, why := stepUpBest(snap, a.Primary, true, p, d, ReasonSickPrimary)
		if act.IsNone() {
			// PSA: the arbiter refuses while the sick primary looks healthy (spec §5.3).
			// If a candidate would win without the arbiter's refusal, fence first, unless
			// fencing is disabled (failover.fence_old_primary: false): then say so.
			if _, ok := Rank(Candidates(snap, a.Primary, false), p).Best(); ok {
				if p.FenceAfter <= 0 || p.FenceDisabled {
					return Action{Kind: None}, RefusedFenceDisabled
				}
				// Shutting a mongod down needs its own sidecar's testimony (sick.go
				// ownWitness): remote probes alone may be a path, not the primary.
				if !ownWitness(snap, a.Primary, p) {
					return Action{Kind: None}, RefusedFenceNoLocalEvidence
				}
				return fence(snap, a.Primary, ReasonSickPrimaryFenceFirst)
			}
		}
		return act, why
	case StalePrimaryLingering:
		if p.FenceDisabled {
			return Action{Kind: None}, RefusedFenceDisabled
		}
		return fence(snap, a.Primary, ReasonStalePrimaryFence)
	case PrimaryCatchingUp:
		return abortCatchUp(snap, st, p, now, a)
	case Healthy:
		return freezeFormer(snap, st, p, now, a)
	}
	return Action{Kind: None}, kindReason[a.Kind]
}

func stepUpBest(snap topology.Snapshot, primary string, sickPrimaryUp bool, p Policy, d *Decision, why Reason) (Action, Reason) {
	r := Rank(Candidates(snap, primary, sickPrimaryUp), p)
	d.Ranking = &r
	best, ok := r.Best()
	if !ok {
		return Action{Kind: None}, RefusedNoCandidate
	}
	return Action{Kind: StepUp, Host: best.Host, Sidecar: best.SidecarID}, why
}

func fence(snap topology.Snapshot, host string, why Reason) (Action, Reason) {
	sc, ok := snap.SidecarOf(host)
	if !ok || !snap.Visible(sc.ID) {
		// Only the sidecar beside a mongod can stop it.
		return Action{Kind: None}, RefusedFenceUnreachable
	}
	return Action{Kind: Fence, Host: host, Sidecar: sc.ID}, why
}

func target(snap topology.Snapshot, k ActionKind, host string, secs int) Action {
	sc, _ := snap.SidecarOf(host)
	return Action{Kind: k, Host: host, Sidecar: sc.ID, Secs: secs}
}

// freezeFormer guards a failover against being undone: a former primary with a higher priority
// than its successor schedules a priority takeover as soon as it is a caught-up secondary
// (spec §5.2). Within the anti-flap window it is frozen instead (spec §6.2).
func freezeFormer(snap topology.Snapshot, st State, p Policy, now time.Time, a Analysis) (Action, Reason) {
	healthy := Action{Kind: None}
	f := st.LastFailover
	if p.FreezeSecs <= 0 || f.At.IsZero() || now.Sub(f.At) >= p.AntiFlapWindow || f.Incident.Primary == a.Primary {
		return healthy, ReasonHealthy
	}
	o := observe(snap)
	former, ok := o.ownView(f.Incident.Primary)
	current, ok2 := o.ownView(a.Primary)
	if !ok || !ok2 {
		return healthy, ReasonHealthy
	}
	l := former.Local
	if !l.Reachable || l.State != topology.StateSecondary || l.Priority <= current.Local.Priority || l.FrozenUntil.After(snap.Now) {
		return healthy, ReasonHealthy
	}
	return target(snap, Freeze, l.Host, p.FreezeSecs), ReasonFreezeFormerPrimary
}
