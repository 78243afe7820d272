package recovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ResyncStep is where a resync stands. The steps run in this order; each one is idempotent, so
// a sidecar restarted in the middle of a step runs it again and goes on (resync_exec.go).
type ResyncStep string

// The steps.
const (
	StepStop      ResyncStep = "stop_mongod"       // stop mongod through the controller
	StepMoveAside ResyncStep = "move_dbpath_aside" // rename the dbpath, create an empty one
	StepStart     ResyncStep = "start_empty"       // start mongod on the empty dbpath
	StepSync      ResyncStep = "initial_sync"      // follow initialSyncStatus until SECONDARY
	StepCleanup   ResyncStep = "cleanup"           // keep the last recovery.resync_keep copies
	StepDone      ResyncStep = "done"
	StepFailed    ResyncStep = "failed"
)

// Finished reports whether the plan has nothing left to do.
func (s ResyncStep) Finished() bool { return s == StepDone || s == StepFailed }

// ResyncPlan is one resync, persisted in the sidecar's state_dir after every step.
type ResyncPlan struct {
	ID     string       `json:"id"`
	Member string       `json:"member"`
	Reason ResyncReason `json:"reason"`
	// Why is the member's kind and evidence when the resync was decided.
	Why     []string   `json:"why,omitempty"`
	Step    ResyncStep `json:"step"`
	DBPath  string     `json:"dbpath"`
	Aside   string     `json:"aside"` // where the old dbpath goes
	Started time.Time  `json:"started"`
	Updated time.Time  `json:"updated"`
	// SyncStarted is when mongod was started empty; Finished when the plan ended.
	SyncStarted time.Time `json:"sync_started,omitzero"`
	Finished    time.Time `json:"finished,omitzero"`
	// Progress is the last initial-sync progress seen.
	Progress ResyncProgress `json:"progress"`
	Error    string         `json:"error,omitempty"`
}

// ResyncProgress is the initial sync's progress as mongod reports it (spec §7.6).
type ResyncProgress struct {
	State       string        `json:"state,omitempty"`
	BytesCopied int64         `json:"bytes_copied"`
	TotalBytes  int64         `json:"total_bytes"`
	Remaining   time.Duration `json:"remaining_ns"`
	Attempts    int           `json:"failed_attempts"`
	LagSeconds  float64       `json:"lag_seconds"`
}

// Fraction is the share copied, 0..1; 0 when unknown.
func (p ResyncProgress) Fraction() float64 {
	if p.TotalBytes <= 0 {
		return 0
	}
	return min(float64(p.BytesCopied)/float64(p.TotalBytes), 1)
}

// NewResyncPlan starts a plan for member with its dbpath; the old dbpath goes to
// <dbpath>.resync-<id>.
func NewResyncPlan(member, dbpath string, d ResyncDecision, now time.Time) ResyncPlan {
	id := now.UTC().Format("20060102T150405Z")
	clean := filepath.Clean(dbpath)
	return ResyncPlan{ID: id, Member: member, Reason: d.Reason, Why: d.Evidence, Step: StepStop, DBPath: clean,
		Aside: clean + ".resync-" + id, Started: now, Updated: now}
}

// ResyncPlanName is the plan's file name in state_dir.
const ResyncPlanName = "resync.json"

// SaveResyncPlan writes p atomically (temporary file, fsync, rename) into dir.
func SaveResyncPlan(dir string, p ResyncPlan) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("recovery: resync plan: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("recovery: resync plan: %w", err)
	}
	tmp := filepath.Join(dir, ResyncPlanName+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("recovery: resync plan: %w", err)
	}
	_, werr := f.Write(append(data, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("recovery: resync plan %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, ResyncPlanName)); err != nil {
		return fmt.Errorf("recovery: resync plan: %w", err)
	}
	return nil
}

// LoadResyncPlan reads the plan in dir; ok is false when there is none.
func LoadResyncPlan(dir string) (p ResyncPlan, ok bool, err error) {
	path := filepath.Join(dir, ResyncPlanName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("recovery: resync plan: %w", err)
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, false, fmt.Errorf("recovery: resync plan %s: %w", path, err)
	}
	return p, true, nil
}
