package drill

import (
	"encoding/json"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/drill/check"
)

// Expect is what a scenario requires of a run for it to pass (acknowledged w:"majority"
// inserts are never lost, whatever the scenario).
type Expect struct {
	// Failover: another member must become a writable primary.
	Failover bool
	// SamePrimary: the primary must not change (a fault rsguard must not act on).
	SamePrimary bool
	// Recovery: the subject must be PRIMARY or SECONDARY again after the undo.
	Recovery bool
	// MaxFailovers bounds the primary changes (flapping); 0 for no bound.
	MaxFailovers int
	// RollbackFiles: a former primary that rolled back must have its files archived.
	RollbackFiles bool
	// Planned: an operator action, not a failure: there is nothing to detect.
	Planned bool
}

// StateSample is the set as observed at one moment of the run.
type StateSample struct {
	At      time.Time `json:"at"`
	Members []Member  `json:"members"`
}

// Note is a scenario's own mark on the timeline ("coordinator sidecar killed").
type Note struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// Recording is everything a run observed; Measure turns it into a Result.
type Recording struct {
	Scenario string
	Run      int
	Target   string
	Expect   Expect

	Start, Fault, Undo, End time.Time // Undo zero when nothing was undone
	Subject, FormerPrimary  string
	Every                   time.Duration // the workloads' period

	Ops    []Op
	States []StateSample
	Events []api.Event       // the sidecars' history, merged
	Audit  []json.RawMessage // the sidecars' audit lines since Start
	Notes  []Note

	Majority, W1 check.Accounting
	// Linearizability is the register history's check; nil when no register client ran.
	Linearizability *Linearizability
	// ReadBackErr is set when the documents could not be read back: nothing is verified.
	ReadBackErr string
	// Problems are the runner's own (a wait that timed out, an undo that failed).
	Problems []string
}

// auditLine is the part of an audit record the measurements read.
type auditLine struct {
	Time     time.Time `json:"time"`
	Reason   string    `json:"reason"`
	Result   string    `json:"result"`
	Analysis struct {
		Kind    string `json:"kind"`
		Primary string `json:"primary"`
	} `json:"analysis"`
	Decision struct {
		Action string `json:"action"`
		Target string `json:"target"`
	} `json:"decision"`
}

func parseAudit(raw json.RawMessage) (auditLine, bool) {
	var l auditLine
	if err := json.Unmarshal(raw, &l); err != nil || l.Time.IsZero() {
		return l, false
	}
	return l, true
}

// Linearizability is the porcupine check of the register clients' history.
type Linearizability struct {
	Verdict string `json:"verdict"` // linearizable, not-linearizable or inconclusive
	Ops     int    `json:"ops"`     // operations checked
	Unknown int    `json:"unknown"` // of unknown outcome (errors, timeouts)
	// Explanation says, for a violation, which operations cannot be placed.
	Explanation string `json:"explanation,omitempty"`
	Err         string `json:"-"` // non-empty when the run must fail
}
