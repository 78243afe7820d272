package supervisor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rsguard/rsguard/election"
)

// Audit results.
const (
	ResultExecuted = "executed"
	ResultRefused  = "refused"
	ResultDryRun   = "dry_run"
	resultFailed   = "failed: "
)

// Actors.
const actorAuto = "auto"

// AuditRecord is one line of the audit log: an action taken (by rsguard or an operator) or a
// refusal to act, with the analysis and evidence behind it (DESIGN.md principle 3).
type AuditRecord struct {
	Time     time.Time       `json:"time"`
	Sidecar  string          `json:"sidecar"`
	Set      string          `json:"set"`
	Analysis AuditAnalysis   `json:"analysis"`
	Decision AuditDecision   `json:"decision"`
	Reason   election.Reason `json:"reason"`
	// Actor is "auto" or "operator:<name>".
	Actor string `json:"actor"`
	// Result is "executed", "failed: <error>", "refused" or "dry_run".
	Result     string `json:"result"`
	DurationMs int64  `json:"duration_ms"`
	// Why is an operator's reason, for operator actions that take one (pause, resume).
	Why string `json:"why,omitempty"`
	// Coordinator is the coordinator of the deciding sidecar's snapshot; the executor is in
	// Decision.Executor (election/executor.go).
	Coordinator string `json:"coordinator,omitempty"`
}

// AuditAnalysis is the analysis part of an audit line.
type AuditAnalysis struct {
	Kind     election.Kind `json:"kind"`
	Primary  string        `json:"primary,omitempty"`
	Term     int64         `json:"term,omitempty"`
	Evidence []string      `json:"evidence,omitempty"`
	// Witnesses and Needed: the sidecars that made the verdict and how many it needs
	// (election.Analysis); absent for analyses without a quorum rule.
	Witnesses []string `json:"witnesses,omitempty"`
	Needed    int      `json:"needed,omitempty"`
}

// AuditDecision is the decision part: what was done or, for refusals, what was proposed.
type AuditDecision struct {
	Action  election.ActionKind `json:"action"`
	Target  string              `json:"target,omitempty"`
	Sidecar string              `json:"sidecar,omitempty"`
	Secs    int                 `json:"secs,omitempty"`
	// Executor is the sidecar the action is addressed to: the one that sends the command.
	Executor string `json:"executor,omitempty"`
}

func auditAnalysis(a election.Analysis) AuditAnalysis {
	return AuditAnalysis{Kind: a.Kind, Primary: a.Primary, Term: a.Term, Evidence: a.Evidence,
		Witnesses: a.Witnesses, Needed: a.Needed}
}

func auditDecision(a election.Action) AuditDecision {
	if a.IsNone() {
		return AuditDecision{Action: election.None}
	}
	return AuditDecision{Action: a.Kind, Target: a.Host, Sidecar: a.Sidecar, Secs: a.Secs, Executor: a.Executor}
}

// auditLog appends JSON lines to a file, one fsync per line: lines are rare (actions and changes
// of refusal), and an audit line lost in a crash is exactly the one someone will look for.
type auditLog struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

func openAudit(path string) (*auditLog, error) {
	if path == "" {
		return nil, fmt.Errorf("supervisor: audit_log path is empty")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("supervisor: audit log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("supervisor: open audit log: %w", err)
	}
	return &auditLog{path: path, f: f}, nil
}

func (a *auditLog) write(r AuditRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("supervisor: encode audit record: %w", err)
	}
	b = append(b, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return fmt.Errorf("supervisor: audit log %s is closed", a.path)
	}
	if _, err := a.f.Write(b); err != nil {
		return fmt.Errorf("supervisor: write audit log %s: %w", a.path, err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("supervisor: sync audit log %s: %w", a.path, err)
	}
	return nil
}

func (a *auditLog) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	if err != nil {
		return fmt.Errorf("supervisor: close audit log: %w", err)
	}
	return nil
}

// ReadAudit reads an audit log file, for tests, drills and the CLI.
func ReadAudit(path string) ([]AuditRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("supervisor: read audit log: %w", err)
	}
	var out []AuditRecord
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var r AuditRecord
		if err := dec.Decode(&r); err != nil {
			return out, fmt.Errorf("supervisor: audit log %s: %w", path, err)
		}
		out = append(out, r)
	}
	return out, nil
}
