package api

import "time"

// The /v1 wire types: what the server encodes and the one client (apiclient) decodes. The
// supervisor fills them; the API package only routes, authenticates and encodes.

// Cluster health levels, worst last. `supervisor status` maps them to its exit code
// (0 healthy, 1 degraded, 2 critical).
const (
	HealthHealthy  = "healthy"  // a writable primary, quorum, every member up and caught up
	HealthDegraded = "degraded" // a member down, lagging, resyncing, paused or blocked
	HealthCritical = "critical" // no writable primary, or no sidecar quorum
)

// Cluster is GET /v1/cluster: the whole set as the answering sidecar sees it.
type Cluster struct {
	Time        time.Time `json:"time"`
	Set         string    `json:"set"`
	Sidecar     string    `json:"sidecar"` // the sidecar that answered
	Coordinator string    `json:"coordinator"`
	Health      string    `json:"health"`
	// Problems says in words why Health is not healthy, worst first.
	Problems []string `json:"problems"`
	Primary  string   `json:"primary,omitempty"`
	Term     int64    `json:"term,omitempty"`
	Quorum   Quorum   `json:"quorum"`
	Paused   *Pause   `json:"paused,omitempty"`
	// AutomaticFailover says whether rsguard would fail over now, and if not, why (reason codes:
	// operator_paused, anti_flap, no_quorum, failover_disabled, dry_run, not_ready).
	AutomaticFailover Automatic      `json:"automatic_failover"`
	Members           []Member       `json:"members"`
	Sidecars          []Sidecar      `json:"sidecars"`
	Resync            *Resync        `json:"resync,omitempty"`
	LastFailover      *Failover      `json:"last_failover,omitempty"`
	Requests          []ActionResult `json:"requests,omitempty"` // recent operator requests, newest first
	Analysis          Analysis       `json:"analysis"`
}

// Quorum is the sidecar quorum.
type Quorum struct {
	Configured int      `json:"configured"`
	Needed     int      `json:"needed"`
	Visible    []string `json:"visible"`
	Has        bool     `json:"has_quorum"`
}

// Pause is the operator's pause of automatic actions.
type Pause struct {
	By  string    `json:"by"`
	At  time.Time `json:"at"`
	Why string    `json:"why,omitempty"`
}

// Automatic is whether automatic failover may act.
type Automatic struct {
	Enabled bool     `json:"enabled"`
	Blocked []string `json:"blocked,omitempty"` // reason codes; empty when it may act
}

// Member is one replica-set member.
type Member struct {
	Host     string  `json:"host"`
	Sidecar  string  `json:"sidecar,omitempty"` // the sidecar beside it, "" for none
	State    string  `json:"state"`             // PRIMARY, SECONDARY, ARBITER, DOWN, UNKNOWN, ...
	Healthy  bool    `json:"healthy"`
	LagSecs  float64 `json:"lag_secs"`
	Priority float64 `json:"priority"`
	Votes    int     `json:"votes"`
	Hidden   bool    `json:"hidden,omitempty"`
	Arbiter  bool    `json:"arbiter,omitempty"`
	// SeenBy are the sidecars that reach this member's mongod; UnseenBy those that do not.
	SeenBy   []string `json:"seen_by"`
	UnseenBy []string `json:"unseen_by"`
	// Class is the analysis of this member when it is the trouble (dead, sick, ...), else "".
	Class string `json:"class,omitempty"`
}

// Sidecar is one configured sidecar.
type Sidecar struct {
	ID    string `json:"id"`
	Mode  string `json:"mode"` // data or arbiter
	Alive bool   `json:"alive"`
	Ready bool   `json:"ready"`
	// AgeSecs is the age of its last gossiped view, -1 when none was ever received.
	AgeSecs float64 `json:"age_secs"`
	Mongod  string  `json:"mongod,omitempty"`
}

// Resync is a member's resync.
type Resync struct {
	Member  string  `json:"member"`
	Phase   string  `json:"phase"`
	Percent float64 `json:"percent"` // 0..100, -1 when unknown
	Reason  string  `json:"reason,omitempty"`
	By      string  `json:"by,omitempty"`
}

// Failover is the last automatic failover.
type Failover struct {
	At     time.Time `json:"at"`
	To     string    `json:"to,omitempty"`
	By     string    `json:"by,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// Analysis is the latest classification.
type Analysis struct {
	Kind     string   `json:"kind"`
	Primary  string   `json:"primary,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
}

// Action names (POST /v1/<action>).
const (
	ActionSwitchover  = "switchover"
	ActionFailover    = "failover"
	ActionResync      = "resync"
	ActionPause       = "pause"
	ActionResume      = "resume"
	ActionAcknowledge = "acknowledge"
)

// ActionRequest is the body of every POST /v1 action; fields an action does not take must be
// empty (a 400 names the field otherwise).
type ActionRequest struct {
	// Actor names the operator for the audit log ("alice"); the token proves the right to act.
	Actor string `json:"actor,omitempty"`
	// Why is free text kept in the audit log and the history.
	Why string `json:"why,omitempty"`
	// To is the member to hand the primary to: optional for switchover (the best ranked
	// candidate otherwise), required for failover.
	To string `json:"to,omitempty"`
	// Force (failover only) skips the candidate's lag and the primary-is-healthy checks; never
	// MongoDB's own election rules.
	Force bool `json:"force,omitempty"`
}

// Action result states.
const (
	StatePlanned = "planned" // dry run: the plan, nothing done
	StatePending = "pending" // accepted, waiting for its executor
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
	StateRefused = "refused" // a guard refused it; Reason says which
)

// ActionResult is the answer to an action and its record in the history.
type ActionResult struct {
	ID       string    `json:"id"`
	Action   string    `json:"action"`
	Actor    string    `json:"actor"`
	Why      string    `json:"why,omitempty"`
	DryRun   bool      `json:"dry_run,omitempty"`
	State    string    `json:"state"`
	Reason   string    `json:"reason"` // a reason code, on success too (e.g. switchover_done)
	Message  string    `json:"message,omitempty"`
	Executor string    `json:"executor,omitempty"` // the sidecar that carries it out
	From     string    `json:"from,omitempty"`     // the primary before
	To       string    `json:"to,omitempty"`       // the member it concerns
	Steps    []Step    `json:"steps,omitempty"`
	Created  time.Time `json:"created"`
	Started  time.Time `json:"started,omitzero"`
	Ended    time.Time `json:"ended,omitzero"`
	// DurationMs is Ended-Started.
	DurationMs int64 `json:"duration_ms,omitempty"`
}

// Step is one step of an action's plan, and once run, its outcome.
type Step struct {
	Do     string `json:"do"` // wait_catch_up, freeze, step_down, step_up, unfreeze, resync, ...
	Host   string `json:"host,omitempty"`
	Detail string `json:"detail,omitempty"`
	Result string `json:"result,omitempty"` // "" until run, then ok or the error
}

// Event is one entry of the history (GET /v1/history) and of the event stream (GET /v1/events,
// one server-sent event per Event with id: ID and event: Kind). IDs are the same on every sidecar
// for the same fact, so a history merged from several sidecars has each once.
type Event struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"` // see the Event* kinds
	Summary string    `json:"summary"`
	Reason  string    `json:"reason,omitempty"`
	Actor   string    `json:"actor,omitempty"`
	Member  string    `json:"member,omitempty"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
	Term    int64     `json:"term,omitempty"`
	// Request is set for operator actions.
	Request *ActionResult `json:"request,omitempty"`
}

// Event kinds.
const (
	EventPrimaryChanged = "primary_changed" // a new primary (host@term) was seen
	EventIncident       = "incident"        // an actionable trouble was first found
	EventFailover       = "failover"        // rsguard's automatic failover
	EventAction         = "action"          // an operator action reached its end (done, failed, refused)
	EventPause          = "pause"
	EventResume         = "resume"
	EventAcknowledge    = "acknowledge"
	EventResyncStarted  = "resync_started"
	EventResyncEnded    = "resync_ended"
	// EventRollbackArchived: a member's rollback files were archived; only its own sidecar's
	// history has it (the files are on its disk).
	EventRollbackArchived = "rollback_archived"
)

// History is GET /v1/history.
type History struct {
	Events []Event `json:"events"`
}

// Audit is GET /v1/audit: this sidecar's audit lines, oldest first (raw JSON objects, one per
// audit line, as written to audit_log).
type Audit struct {
	Sidecar string `json:"sidecar"`
	Records []any  `json:"records"`
}

// Problem is an RFC 7807 problem document (application/problem+json), the body of every 4xx
// and 5xx from /v1.
type Problem struct {
	Type   string `json:"type"` // "about:blank" or https://rsguard.dev/problems/<code>
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the request field (JSON key or query parameter) that is wrong.
	Field string `json:"field,omitempty"`
	// Reason is the refusal's reason code, for 409s.
	Reason string `json:"reason,omitempty"`
	// Result is the refused or failed action, with its plan.
	Result *ActionResult `json:"result,omitempty"`
}
