package drill

import (
	"encoding/json"
	"time"
)

// Verdict is how a scenario run ended.
type Verdict string

// Verdicts.
const (
	VerdictPass  Verdict = "pass"
	VerdictFail  Verdict = "fail"  // ran, and an expectation failed (Problems say which)
	VerdictSkip  Verdict = "skip"  // a precondition or the target ruled it out (Skipped says why)
	VerdictError Verdict = "error" // could not run (the set, the target or the context failed)
)

// Ms is a duration in milliseconds: an offset from the fault, or a length.
type Ms int64

// MsOf converts a duration.
func MsOf(d time.Duration) Ms { return Ms(d.Milliseconds()) }

// Seconds is m in seconds, for tables.
func (m Ms) Seconds() float64 { return float64(m) / 1000 }

// ptr returns a pointer to an offset, for optional fields.
func ptr(m Ms) *Ms { return &m }

// Writes counts one kind of operation.
type Writes struct {
	Attempted int `json:"attempted"`
	Acked     int `json:"acked"`
	Failed    int `json:"failed"`
	// Lost are acknowledged ids missing after the drill (w:"majority": must be empty; w:1:
	// the documents a rollback removed).
	Lost []string `json:"lost,omitempty"`
	// UnackedPresent counts inserts that failed or timed out yet committed.
	UnackedPresent int `json:"unacked_present,omitempty"`
}

// Reads counts the readers' operations.
type Reads struct {
	OK     int `json:"ok"`
	Failed int `json:"failed"`
	// Stale counts reads that missed an acknowledged w:"majority" insert.
	Stale int `json:"stale"`
	// LongestGapMs is the longest time without a successful read around the fault.
	LongestGapMs Ms `json:"longest_gap_ms"`
}

// MarkKind is what a timeline mark is.
type MarkKind string

// Timeline marks, in the order a failover usually shows them.
const (
	MarkFault       MarkKind = "fault"
	MarkDetection   MarkKind = "detection"
	MarkDecision    MarkKind = "decision"
	MarkNewPrimary  MarkKind = "new_primary"
	MarkWritable    MarkKind = "writable"
	MarkUndo        MarkKind = "undo"
	MarkRecovered   MarkKind = "recovered"
	MarkRollback    MarkKind = "rollback"
	MarkNote        MarkKind = "note"
	MarkPausedStart MarkKind = "writes_paused_start"
)

// Mark is one point of a scenario's timeline.
type Mark struct {
	AtMs Ms       `json:"at_ms"`
	Kind MarkKind `json:"kind"`
	What string   `json:"what"`
}

// Result is one run of one scenario. Times are offsets from the fault (negative: before it).
type Result struct {
	Scenario string    `json:"scenario"`
	Run      int       `json:"run"`
	Target   string    `json:"target"`
	Fault    time.Time `json:"fault_at,omitzero"` // wall clock of the fault, for the audit logs
	Verdict  Verdict   `json:"verdict"`
	Problems []string  `json:"problems,omitempty"`
	Skipped  string    `json:"skipped,omitempty"`

	// Subject is the member the fault hit; FormerPrimary the primary before it, NewPrimary
	// the one after ("" when the primary did not change).
	Subject       string `json:"subject,omitempty"`
	FormerPrimary string `json:"former_primary,omitempty"`
	NewPrimary    string `json:"new_primary,omitempty"`

	// DetectionMs: the first sidecar event or audit line naming the subject dead or sick.
	DetectionMs *Ms    `json:"detection_ms,omitempty"`
	Detection   string `json:"detection,omitempty"`
	// Decision is the reason code of rsguard's first action after the fault.
	Decision   string `json:"decision,omitempty"`
	DecisionMs *Ms    `json:"decision_ms,omitempty"`
	// NewPrimaryMs: the first observation of another primary; WritablePrimaryMs: the
	// acknowledgement that ended the longest pause of w:"majority" inserts after the fault (the
	// first one after the fault when they never paused).
	NewPrimaryMs      *Ms `json:"new_primary_ms,omitempty"`
	WritablePrimaryMs *Ms `json:"writable_primary_ms,omitempty"`
	// WriteUnavailableMs is the longest gap between acknowledged w:"majority" inserts around
	// the fault, from PausedFromMs to PausedToMs.
	WriteUnavailableMs Ms  `json:"write_unavailable_ms"`
	PausedFromMs       *Ms `json:"paused_from_ms,omitempty"`
	PausedToMs         *Ms `json:"paused_to_ms,omitempty"`

	Majority Writes `json:"majority"`
	W1       Writes `json:"w1"`
	Reads    Reads  `json:"reads"`
	// AckedLost is len(Majority.Lost): must be 0. RolledBack counts acknowledged w:1 inserts
	// gone after the drill; RollbackFiles the rollback archive events of the sidecars.
	AckedLost     int `json:"acked_lost"`
	RolledBack    int `json:"rolled_back"`
	RollbackFiles int `json:"rollback_files"`

	// UndoMs: when the fault was undone. RecoveredMs: when the subject was seen PRIMARY or
	// SECONDARY again after it; RecoveryMs = RecoveredMs - UndoMs.
	UndoMs      *Ms `json:"undo_ms,omitempty"`
	RecoveredMs *Ms `json:"recovered_ms,omitempty"`
	RecoveryMs  *Ms `json:"recovery_ms,omitempty"`

	// Linearizability is the register clients' check (porcupine); nil when none ran.
	Linearizability *Linearizability `json:"linearizability,omitempty"`
	// Failovers counts primary changes seen during the run.
	Failovers int `json:"failovers"`
	// Audit is rsguard's audit trail of the run (one JSON object per line, every sidecar).
	Audit    []json.RawMessage `json:"audit,omitempty"`
	Timeline []Mark            `json:"timeline,omitempty"`
	// DurationMs is the whole run, warm-up and recovery included.
	DurationMs Ms `json:"duration_ms"`
}

// Failed is true for a failing or erroring run.
func (r Result) Failed() bool { return r.Verdict == VerdictFail || r.Verdict == VerdictError }

// Ran is true when the fault was injected: the measurements mean something.
func (r Result) Ran() bool { return !r.Fault.IsZero() }
