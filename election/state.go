package election

import (
	"time"

	"github.com/rsguard/rsguard/topology"
)

// Incident identifies the trouble an action answers: the primary and its own term (see
// topology.Incident). A retry for the same incident is not a second failover; a new primary or
// term is.
type Incident = topology.Incident

// Failover records the last automatic failover the coordinator issued.
type Failover struct {
	At       time.Time `json:"at"`
	Incident Incident  `json:"incident"`
	To       string    `json:"to,omitempty"`
	Reason   Reason    `json:"reason,omitempty"`
}

// Pending is an issued action awaited until Deadline, so the same replSetStepUp is not sent every
// tick while the election runs.
type Pending struct {
	Action   Action    `json:"action"`
	Incident Incident  `json:"incident"`
	Deadline time.Time `json:"deadline"`
}

// State is the little memory Decide keeps between ticks. It is a value: Decide returns the next one
// and the caller persists or gossips it as it likes.
type State struct {
	LastFailover Failover `json:"last_failover,omitzero"`
	// AckAt is when an operator acknowledged the last failover, lifting the anti-flap block.
	AckAt   time.Time `json:"ack_at,omitzero"`
	Pending Pending   `json:"pending,omitzero"`
	// Memory is the set's shared memory as this sidecar knows it (election/memory_state.go):
	// LastFailover and AckAt are derived from it at the start of every Decide.
	Memory topology.Memory `json:"memory,omitzero"`
}

// Acknowledge records an operator's acknowledgement at the given time.
func (s State) Acknowledge(at time.Time) State {
	s.AckAt = at
	return s
}

// antiFlapBlocks reports whether a failover for inc at now falls inside the anti-flap window of an
// unacknowledged earlier failover for a different incident.
func (s State) antiFlapBlocks(inc Incident, now time.Time, p Policy) bool {
	f := s.LastFailover
	switch {
	case f.At.IsZero(), p.AntiFlapWindow <= 0, f.Incident == inc:
		return false
	case !s.AckAt.Before(f.At):
		return false
	}
	return now.Sub(f.At) < p.AntiFlapWindow
}

// pendingBlocks reports whether action a for inc was already issued and is still awaited.
func (s State) pendingBlocks(a Action, inc Incident, now time.Time) bool {
	return s.Pending.Action == a && s.Pending.Incident == inc && now.Before(s.Pending.Deadline) ||
		s.inFlight(a, inc, now)
}

// expire drops a pending action whose deadline passed or whose trouble is over.
func (s State) expire(now time.Time, a Analysis) State {
	if !s.Pending.Deadline.IsZero() && (!now.Before(s.Pending.Deadline) || a.Kind == Healthy && s.Pending.Action.Kind != Freeze) {
		s.Pending = Pending{}
	}
	return s
}
