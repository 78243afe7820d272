package notify

import (
	"encoding/json"
	"strconv"
	"time"
)

// Kind is what happened. The kinds match the /v1 event kinds (api/types.go) where both exist.
type Kind string

// The event kinds.
const (
	KindFailover         Kind = "failover"          // rsguard's automatic failover: a new primary was stepped up
	KindSwitchover       Kind = "switchover"        // an operator's planned change of primary
	KindAction           Kind = "action"            // an operator action reached its end (done, failed, refused)
	KindIncident         Kind = "incident"          // an actionable trouble was first found
	KindPrimaryChanged   Kind = "primary_changed"   // a new primary (host@term) was seen
	KindResyncStarted    Kind = "resync_started"    // this sidecar started resyncing its member
	KindResyncEnded      Kind = "resync_ended"      // the resync finished, failed or was abandoned
	KindRollbackArchived Kind = "rollback_archived" // rollback files were moved into the archive
	KindPause            Kind = "pause"             // automatic actions were paused
	KindResume           Kind = "resume"            // automatic actions were resumed
	KindAcknowledge      Kind = "acknowledge"       // an operator acknowledged the last failover
)

// Kinds lists every known kind, in the order above.
func Kinds() []Kind {
	return []Kind{KindFailover, KindSwitchover, KindAction, KindIncident, KindPrimaryChanged,
		KindResyncStarted, KindResyncEnded, KindRollbackArchived, KindPause, KindResume, KindAcknowledge}
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, known := range Kinds() {
		if k == known {
			return true
		}
	}
	return false
}

// Event is one fact worth telling someone about. The JSON webhook format is this struct's JSON
// encoding; hooks get it whole in RSGUARD_EVENT_JSON and field by field in RSGUARD_* variables.
type Event struct {
	// ID identifies the fact; the supervisor gives the same ID on every sidecar for the same
	// fact, so that a receiver can deduplicate. Notify fills a random one when empty.
	ID string `json:"id"`
	// Time is when it happened; Notify fills the current time when zero.
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`
	// Set is the replica set name and Sidecar the sidecar that reports; Notify fills them from
	// Options when empty.
	Set     string `json:"set"`
	Sidecar string `json:"sidecar"`
	// Summary is one human sentence.
	Summary string `json:"summary"`
	// Reason is the decision's reason code (election.Reason), if any.
	Reason string `json:"reason,omitempty"`
	// Actor is who caused it: "rsguard" for automatic actions, the operator otherwise.
	Actor string `json:"actor,omitempty"`
	// Member is the member concerned (host:port), for member-scoped events.
	Member string `json:"member,omitempty"`
	// From is the old primary and To the new one (host:port), for failovers and switchovers.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Term is the replica set term of the new primary, if known.
	Term int64 `json:"term,omitempty"`
	// Fields holds anything else worth showing, such as "took_ms" or "archive".
	Fields map[string]string `json:"fields,omitempty"`
}

// JSON is the event's JSON encoding.
func (e Event) JSON() []byte {
	b, err := json.Marshal(e)
	if err != nil { // cannot happen: plain strings, a time and a map of strings
		return []byte(`{}`)
	}
	return b
}

// env is the event as hook environment variables (documented in doc.go and docs/hooks.md).
func (e Event) env() []string {
	term := ""
	if e.Term != 0 {
		term = strconv.FormatInt(e.Term, 10)
	}
	return []string{
		"RSGUARD_EVENT=" + string(e.Kind),
		"RSGUARD_EVENT_ID=" + e.ID,
		"RSGUARD_SET=" + e.Set,
		"RSGUARD_SIDECAR=" + e.Sidecar,
		"RSGUARD_REASON=" + e.Reason,
		"RSGUARD_ACTOR=" + e.Actor,
		"RSGUARD_MEMBER=" + e.Member,
		"RSGUARD_FROM=" + e.From,
		"RSGUARD_TO=" + e.To,
		"RSGUARD_TERM=" + term,
		"RSGUARD_EVENT_JSON=" + string(e.JSON()),
	}
}
