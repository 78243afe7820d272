package topology

import (
	"strconv"
	"strings"
	"time"
)

// Memory is the set's shared memory: the facts every sidecar must agree on after the fact
// (DESIGN.md principle 3). Each sidecar gossips its copy in its MemberView and persists it in its
// state_dir; receivers merge every copy they see into their own. Every field is a mergeable record
// (a state-based CRDT): the merge (election.MergeMemory) is commutative, associative and
// idempotent, so copies converge whatever the order, duplication or delay of the gossip.
// The records are plain values; the merge, the pruning and the gates that read them live in the
// election package.
type Memory struct {
	// Failovers are the automatic failovers, by incident (Incident.Key). Merge: the earliest
	// record of an incident wins.
	Failovers map[string]FailoverRecord `json:"failovers,omitempty"`
	// Ack is the latest operator acknowledgement. Merge: the latest wins.
	Ack AckRecord `json:"ack,omitzero"`
	// Freezes are members known to be unelectable until a time (replSetFreeze or a stepdown
	// period, spec §6.1, §6.2), by host. Merge: the latest Until wins.
	Freezes map[string]FreezeRecord `json:"freezes,omitempty"`
	// Pause stops every automatic action while Paused. Merge: last writer wins, ties broken
	// deterministically (PauseRecord order).
	Pause PauseRecord `json:"pause,omitzero"`
	// Actions are the actions in flight, by ActionRecord.Key. Merge: per key, the latest
	// Deadline and RetryAt.
	Actions map[string]ActionRecord `json:"actions,omitempty"`
	// Incidents are the troubles an action answers, by Incident.Key. Merge: the earliest
	// record wins.
	Incidents map[string]IncidentRecord `json:"incidents,omitempty"`
	// Resyncs are the set's resync leases (one member resyncs at a time), by ResyncRecord.Key.
	// Merge: per key, the latest Until.
	Resyncs map[string]ResyncRecord `json:"resyncs,omitempty"`
	// Requests are the operator's actions, by ID. Merge: per ID, the higher stage, then the
	// later end.
	Requests map[string]RequestRecord `json:"requests,omitempty"`
}

// IsZero reports whether the memory holds no record.
func (m Memory) IsZero() bool {
	return len(m.Failovers) == 0 && len(m.Freezes) == 0 && len(m.Actions) == 0 && len(m.Incidents) == 0 && len(m.Resyncs) == 0 && len(m.Requests) == 0 &&
		m.Ack == AckRecord{} && m.Pause == PauseRecord{}
}

// Incident identifies the trouble an action answers: the primary's host and its own term, the
// term it was elected in (the electionId term it reported itself as primary, spec §5.4), not a
// newer term a stalled primary learnt later. A retry for the same incident is not a second
// failover; a new primary or a new election of the same host is.
type Incident struct {
	Primary string `json:"primary,omitempty"`
	Term    int64  `json:"term,omitempty"`
}

// Key is the incident's map key in Memory: "host@term".
func (i Incident) Key() string { return i.Primary + "@" + strconv.FormatInt(i.Term, 10) }

// FailoverRecord is one automatic failover: the coordinator By issued a step-up (or stepdown)
// to To at At for Incident, for Reason (an election.Reason code).
type FailoverRecord struct {
	Incident Incident  `json:"incident"`
	At       time.Time `json:"at"`
	To       string    `json:"to,omitempty"`
	By       string    `json:"by,omitempty"`
	Reason   string    `json:"reason,omitempty"`
}

// AckRecord is an operator's acknowledgement of the failovers before At.
type AckRecord struct {
	At time.Time `json:"at,omitzero"`
	By string    `json:"by,omitempty"`
}

// FreezeRecord says Host is unelectable until Until, as sidecar By learnt it.
type FreezeRecord struct {
	Until time.Time `json:"until"`
	By    string    `json:"by,omitempty"`
}

// PauseRecord is the latest pause or resume of automatic actions, by whom and why.
type PauseRecord struct {
	Paused bool      `json:"paused,omitempty"`
	At     time.Time `json:"at,omitzero"`
	By     string    `json:"by,omitempty"`
	Why    string    `json:"why,omitempty"`
}

// ActionRecord is an action issued by sidecar By at At, addressed to Sidecar, awaited until
// Deadline. The executor sets RetryAt when it failed: from then on it may be issued again.
type ActionRecord struct {
	Kind     string    `json:"kind"`
	Host     string    `json:"host,omitempty"`
	Sidecar  string    `json:"sidecar,omitempty"`
	Secs     int       `json:"secs,omitempty"`
	Incident Incident  `json:"incident"`
	By       string    `json:"by,omitempty"`
	At       time.Time `json:"at"`
	Deadline time.Time `json:"deadline"`
	RetryAt  time.Time `json:"retry_at,omitzero"`
}

// Key identifies one issue of an action: everything but Deadline and RetryAt, which merge.
func (a ActionRecord) Key() string {
	return strings.Join([]string{a.Kind, a.Host, a.Sidecar, strconv.Itoa(a.Secs), a.Incident.Key(), a.By,
		strconv.FormatInt(a.At.UnixNano(), 10)}, "|")
}

// InFlight reports whether the action is still awaited at now.
func (a ActionRecord) InFlight(now time.Time) bool {
	return now.Before(a.Deadline) && (a.RetryAt.IsZero() || now.Before(a.RetryAt))
}

// IncidentRecord is when an incident was first found actionable, and as what (an
// election.Kind code), by sidecar By.
type IncidentRecord struct {
	Incident Incident  `json:"incident"`
	Since    time.Time `json:"since"`
	Kind     string    `json:"kind,omitempty"`
	By       string    `json:"by,omitempty"`
}

// ResyncRecord is a resync of Member run by sidecar By since Started: a lease, renewed while the
// resync runs and released (Until set to its end) when it ends. A sidecar that dies mid-resync
// stops renewing, and the lease lapses at Until.
type ResyncRecord struct {
	Member  string    `json:"member"`
	By      string    `json:"by,omitempty"`
	Started time.Time `json:"started"`
	Until   time.Time `json:"until"`
	// Ended: the resync is over (done or failed). An ended record beats any renewal, whatever
	// its Until: a release must not be undone by an older renewal still in flight.
	Ended bool `json:"ended,omitempty"`
}

// Key identifies one resync: its member and start.
func (r ResyncRecord) Key() string {
	return r.Member + "@" + strconv.FormatInt(r.Started.UnixNano(), 10)
}

// Active reports whether the lease holds at now.
func (r ResyncRecord) Active(now time.Time) bool { return !r.Ended && now.Before(r.Until) }

// Request stages: a request is created (RequestPending) by the sidecar an operator asked,
// taken (RequestRunning) by its executor, and ended (RequestEnded) with an outcome. Only the
// executor moves a request past pending, so the merge (the higher stage wins) never loses an
// outcome.
const (
	RequestPending = 0
	RequestRunning = 1
	RequestEnded   = 2
)

// RequestRecord is an operator's action (switchover, failover, resync) on its way to, and back
// from, the sidecar that executes it: the set's memory carries it there, so any sidecar can be
// asked and every sidecar can answer for it.
type RequestRecord struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	To     string `json:"to,omitempty"`
	Force  bool   `json:"force,omitempty"`
	Actor  string `json:"actor,omitempty"`
	Why    string `json:"why,omitempty"`
	// Executor is the sidecar addressed to carry it out; By is the sidecar that took the request.
	Executor string    `json:"executor"`
	By       string    `json:"by,omitempty"`
	Created  time.Time `json:"created"`
	// Expires: a request its executor has not taken by then is void (it ends as failed, by
	// whoever sees it first).
	Expires time.Time `json:"expires"`
	Stage   int       `json:"stage"`
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
	// Outcome, once ended: State is done, failed or refused; Reason a reason code.
	State   string        `json:"state,omitempty"`
	Reason  string        `json:"reason,omitempty"`
	Message string        `json:"message,omitempty"`
	From    string        `json:"from,omitempty"`
	Steps   []RequestStep `json:"steps,omitempty"`
}

// RequestStep is one step of a request's plan and, once run, its result.
type RequestStep struct {
	Do     string `json:"do"`
	Host   string `json:"host,omitempty"`
	Detail string `json:"detail,omitempty"`
	Result string `json:"result,omitempty"`
}

// Active reports whether the request is pending (and not expired) or running at now.
func (r RequestRecord) Active(now time.Time) bool {
	return r.Stage == RequestRunning || (r.Stage == RequestPending && now.Before(r.Expires))
}
