package election

import (
	"maps"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// This file joins State to the shared memory (State.Memory, topology/memory.go). Decide reads
// the merged memory through the State it is given: LastFailover and AckAt are derived from it at
// the start of every Decide (so every sidecar, not only the one that acted, blocks a second
// failover inside the anti-flap window), freezes from it mark members unelectable, a pause
// refuses every action, and an action in flight recorded by any sidecar is not issued twice.
// Decide writes the records of what it issues into the State it returns; the caller merges its
// peers' copies in, persists and gossips it.

// syncMemory prunes the memory and derives the local fields from it. A LastFailover or AckAt the
// memory lacks (a state file written before the memory existed, a test's starting state) is
// added to it first.
func (s State) syncMemory(now time.Time, p Policy) State {
	m := s.Memory
	if f := s.LastFailover; !f.At.IsZero() && m.Failovers[f.Incident.Key()].At.IsZero() {
		rec := topology.FailoverRecord{Incident: f.Incident, At: norm(f.At), To: f.To, Reason: string(f.Reason)}
		m = MergeMemory(m, topology.Memory{Failovers: map[string]topology.FailoverRecord{f.Incident.Key(): rec}})
	}
	if s.AckAt.After(m.Ack.At) {
		m = MergeMemory(m, topology.Memory{Ack: topology.AckRecord{At: norm(s.AckAt)}})
	}
	m = PruneMemory(m, now, p.AntiFlapWindow)
	s.Memory = m
	s.LastFailover, s.AckAt = Failover{}, m.Ack.At
	for _, r := range m.Failovers {
		if s.LastFailover.At.IsZero() || cmpFailover(r, recordOf(s.LastFailover)) > 0 {
			s.LastFailover = Failover{At: r.At, Incident: r.Incident, To: r.To, Reason: Reason(r.Reason)}
		}
	}
	return s
}

func recordOf(f Failover) topology.FailoverRecord {
	return topology.FailoverRecord{Incident: f.Incident, At: f.At, To: f.To, Reason: string(f.Reason)}
}

// remember records what Decide just issued: the action in flight and, for a failover, the
// failover of the incident (kept once per incident: the earliest record wins the merge).
func (s State) remember(self string, a Action, inc Incident, why Reason, failover bool, now time.Time, p Policy) State {
	now = norm(now)
	m := topology.Memory{Actions: map[string]topology.ActionRecord{}}
	rec := topology.ActionRecord{Kind: string(a.Kind), Host: a.Host, Sidecar: a.Sidecar, Secs: a.Secs,
		Incident: inc, By: self, At: now, Deadline: now.Add(p.PendingTimeout)}
	m.Actions[rec.Key()] = rec
	if failover {
		m.Failovers = map[string]topology.FailoverRecord{inc.Key(): {Incident: inc, At: now, To: a.Host, By: self, Reason: string(why)}}
	}
	s.Memory = MergeMemory(s.Memory, m)
	return s
}

// inFlight reports whether any sidecar issued a for inc and still awaits it.
//
// A step-up in flight blocks every step-up for the same incident, whichever candidate it names:
// once one member runs for election, views that lag by a push rank another member best (the
// first is now a candidate), and a second replSetStepUp would only start a competing election
// (it fails "Election failed" at best, and bumps the term at worst).
func (s State) inFlight(a Action, inc Incident, now time.Time) bool {
	for _, r := range s.Memory.Actions {
		same := r.Host == a.Host && r.Secs == a.Secs || a.Kind == StepUp
		if r.Kind == string(a.Kind) && same && r.Incident == inc && r.InFlight(now) {
			return true
		}
	}
	return false
}

// noteIncident records that inc was found actionable, once per sidecar and incident.
func (s State) noteIncident(self string, inc Incident, a Analysis, now time.Time) State {
	if !a.Actionable() || inc.Primary == "" {
		return s
	}
	if _, ok := s.Memory.Incidents[inc.Key()]; ok {
		return s
	}
	rec := topology.IncidentRecord{Incident: inc, Since: norm(now), Kind: a.Kind.String(), By: self}
	s.Memory = MergeMemory(s.Memory, topology.Memory{Incidents: map[string]topology.IncidentRecord{inc.Key(): rec}})
	return s
}

// AcknowledgeBy records an operator's acknowledgement in the shared memory: it lifts the
// anti-flap block on every sidecar once gossiped.
func (s State) AcknowledgeBy(at time.Time, by string) State {
	s.AckAt = norm(at)
	s.Memory = MergeMemory(s.Memory, topology.Memory{Ack: topology.AckRecord{At: norm(at), By: by}})
	return s
}

// SetPaused records a pause (paused true) or a resume of every automatic action.
func (s State) SetPaused(paused bool, at time.Time, by, why string) State {
	s.Memory = MergeMemory(s.Memory, topology.Memory{Pause: topology.PauseRecord{Paused: paused, At: norm(at), By: by, Why: why}})
	return s
}

// Paused reports whether automatic actions are paused, per the shared memory.
func (s State) Paused() bool { return s.Memory.Pause.Paused }

// RecordFreeze records that host is unelectable until until (a replSetFreeze or stepdown that
// succeeded), as sidecar by learnt it.
func (s State) RecordFreeze(host string, until time.Time, by string) State {
	s.Memory = MergeMemory(s.Memory, topology.Memory{Freezes: map[string]topology.FreezeRecord{host: {Until: norm(until), By: by}}})
	return s
}

// RecordResync records (or renews, or releases: Until at its end) a resync lease.
func (s State) RecordResync(r topology.ResyncRecord) State {
	r.Started, r.Until = norm(r.Started), norm(r.Until)
	s.Memory = MergeMemory(s.Memory, topology.Memory{Resyncs: map[string]topology.ResyncRecord{r.Key(): r}})
	return s
}

// ActionFailed marks every in-flight issue of a as retryable from retry on: the executor saw it
// fail, so the next coordinator tick (this sidecar's or another's) may issue it again.
func (s State) ActionFailed(a Action, retry time.Time) State {
	var m topology.Memory
	for k, r := range s.Memory.Actions {
		if r.Kind == string(a.Kind) && r.Host == a.Host && r.Secs == a.Secs && retry.Before(r.Deadline) {
			if m.Actions == nil {
				m.Actions = map[string]topology.ActionRecord{}
			}
			r.RetryAt = norm(retry)
			m.Actions[k] = r
		}
	}
	s.Memory = MergeMemory(s.Memory, m)
	return s
}

// withFreezes marks the members the memory knows to be frozen in the snapshot's first-hand
// views, so that Rank excludes them and freezeFormer does not freeze them again. The caller's
// snapshot is not modified.
func withFreezes(snap topology.Snapshot, m topology.Memory) topology.Snapshot {
	if len(m.Freezes) == 0 {
		return snap
	}
	views := maps.Clone(snap.Views)
	for id, v := range views {
		l := &v.View.Local
		if until := FrozenUntil(m, l.Host); l.Host != "" && until.After(l.FrozenUntil) {
			l.FrozenUntil = until
			views[id] = v
		}
	}
	snap.Views = views
	return snap
}

// norm strips the monotonic reading and the location, so records compare and encode alike
// wherever they were made.
func norm(t time.Time) time.Time { return t.UTC().Round(0) }
