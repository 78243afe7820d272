package election

import "fmt"

// ActionKind is what the supervisor loop is asked to execute.
type ActionKind string

// Action kinds. Each maps to one MongoDB command or one process-control step.
const (
	None ActionKind = "none"
	// StepUp: replSetStepUp on Host (spec §6.3); MongoDB's election decides if it wins.
	StepUp ActionKind = "step_up"
	// StepDown: replSetStepDown {Secs} on Host (spec §6.1).
	StepDown ActionKind = "step_down"
	// Freeze: replSetFreeze {Secs} on Host (spec §6.2); it still votes and replicates.
	Freeze ActionKind = "freeze"
	// Fence: the sidecar beside Host stops its mongod (audited); recovery brings it back.
	Fence ActionKind = "fence"
	// AbortCatchUp: replSetAbortPrimaryCatchUp on Host, a primary-elect in catch-up (spec §6.8).
	AbortCatchUp ActionKind = "abort_catch_up"
)

// Action is one requested step. Sidecar is the sidecar beside Host (its owner, "" for a member
// without a sidecar); Executor is the sidecar that sends the command, as raft addresses its
// messages (election/executor.go). Executor == Sidecar means the command goes to the executor's
// own local mongod; otherwise the executor reaches Host remotely with its credentials.
type Action struct {
	Kind     ActionKind `json:"kind"`
	Host     string     `json:"host,omitempty"`
	Sidecar  string     `json:"sidecar,omitempty"`
	Secs     int        `json:"secs,omitempty"`
	Executor string     `json:"executor,omitempty"`
}

// IsNone reports whether the action does nothing.
func (a Action) IsNone() bool { return a.Kind == None || a.Kind == "" }

func (a Action) String() string {
	switch {
	case a.IsNone():
		return "none"
	case a.Secs > 0:
		return fmt.Sprintf("%s(%s, %ds)", a.Kind, a.Host, a.Secs)
	}
	return fmt.Sprintf("%s(%s)", a.Kind, a.Host)
}

// Decision is Decide's output for one tick, in the spirit of raft's Ready: the caller executes
// Action (if any), logs and audits the rest.
type Decision struct {
	Analysis Analysis `json:"analysis"`
	// Action is what to execute now; None whenever Reason is a refusal.
	Action Action `json:"action"`
	// Proposed is what the rules call for, executed or not: under dry run, a disabled policy,
	// anti-flap or a pending action it shows the would-be action.
	Proposed Action `json:"proposed"`
	Reason   Reason `json:"reason"`
	// Coordinator is the lowest ready id of the visible majority, "" without quorum: the
	// preferred fallback executor when a target's own sidecar is out of sight (executor.go).
	Coordinator string `json:"coordinator,omitempty"`
	// Ranking is set when a step-up candidate was sought.
	Ranking *Ranking `json:"ranking,omitempty"`
	// Executor is the sidecar addressed to carry out Proposed ("" when none can): every sidecar
	// decides on its own snapshot, and only the one that finds itself the executor sets Action;
	// the others say refused_not_executor (election/executor.go).
	Executor string `json:"executor,omitempty"`
}

func (d Decision) String() string {
	return fmt.Sprintf("%s: %s (proposed %s) [%s]", d.Analysis.Kind, d.Action, d.Proposed, d.Reason)
}
