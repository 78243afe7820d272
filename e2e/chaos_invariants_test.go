package e2e

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The chaos soak's invariants as pure checkers over streams of observations: no processes, no
// harness, no driver and no clock (every time comes in with an observation), so that a drill
// package can take this file over as it is. drill_chaos_test.go feeds them from hello polls, the
// workload, the audit logs and the sidecars' status and history; chaos_invariants_unit_test.go
// shows that each one reports a violation it is fed.

// chaosInvariant names one invariant in a violation.
type chaosInvariant string

// The invariants (issue 11, item 5).
const (
	invOnePrimaryPerTerm chaosInvariant = "at-most-one-writable-primary-per-term"
	invNoLostAck         chaosInvariant = "no-lost-majority-write"
	invQuorumVerdict     chaosInvariant = "failover-has-quorum-verdict"
	invAntiFlap          chaosInvariant = "no-flapping-beyond-policy"
	invAudited           chaosInvariant = "every-action-audited"
)

// chaosViolation is one broken invariant: when, on which hosts, and what was seen.
type chaosViolation struct {
	Invariant chaosInvariant
	At        time.Time
	Hosts     []string
	Detail    string
}

func (v chaosViolation) String() string {
	return fmt.Sprintf("%s at %s on [%s]: %s", v.Invariant, v.At.UTC().Format("15:04:05.000"), strings.Join(v.Hosts, ", "), v.Detail)
}

// writableObs is one hello reply with isWritablePrimary: true, and the term of its electionId
// (the last 8 bytes, big-endian: OID::fromTerm, mongod-spec §0 and §5.4).
type writableObs struct {
	At   time.Time
	Host string
	Term int64
}

// primaryPerTerm checks, as hello replies arrive, that no two hosts are writable primaries in
// the same term (MongoDB's election safety, spec §5.1). It reports each term once.
type primaryPerTerm struct {
	first    map[int64]writableObs
	reported map[int64]bool
}

func newPrimaryPerTerm() *primaryPerTerm {
	return &primaryPerTerm{first: map[int64]writableObs{}, reported: map[int64]bool{}}
}

// observe takes one writable hello; it returns a violation the first time a second host claims
// a term another one was writable in.
func (c *primaryPerTerm) observe(o writableObs) (chaosViolation, bool) {
	f, seen := c.first[o.Term]
	if !seen {
		c.first[o.Term] = o
		return chaosViolation{}, false
	}
	if f.Host == o.Host || c.reported[o.Term] {
		return chaosViolation{}, false
	}
	c.reported[o.Term] = true
	return chaosViolation{Invariant: invOnePrimaryPerTerm, At: o.At, Hosts: []string{f.Host, o.Host},
		Detail: fmt.Sprintf("term %d: %s writable at %s, %s writable at %s", o.Term,
			f.Host, f.At.UTC().Format("15:04:05.000"), o.Host, o.At.UTC().Format("15:04:05.000"))}, true
}

// terms is how many distinct terms had a writable primary.
func (c *primaryPerTerm) terms() int { return len(c.first) }

// checkOnePrimaryPerTerm runs primaryPerTerm over a whole stream.
func checkOnePrimaryPerTerm(obs []writableObs) []chaosViolation {
	c := newPrimaryPerTerm()
	var out []chaosViolation
	for _, o := range obs {
		if v, bad := c.observe(o); bad {
			out = append(out, v)
		}
	}
	return out
}

// checkNoLostAcks: every acknowledged w:"majority" insert id must be in present, the ids a
// majority read on primary found at time at.
func checkNoLostAcks(at time.Time, primary string, acked []int64, present map[int64]bool) []chaosViolation {
	var lost []int64
	for _, id := range acked {
		if !present[id] {
			lost = append(lost, id)
		}
	}
	if len(lost) == 0 {
		return nil
	}
	return []chaosViolation{{Invariant: invNoLostAck, At: at, Hosts: []string{primary},
		Detail: fmt.Sprintf("%d of %d acknowledged w:majority inserts missing from a majority read: ids %v", len(lost), len(acked), lost[:min(len(lost), 20)])}}
}

// actionRec is one audit line of an action (the fields the invariants need, as strings: the
// audit log's JSON codes).
type actionRec struct {
	At          time.Time
	Sidecar     string
	Action      string // step_up, step_down, fence, freeze, abort_catch_up, acknowledge, ...
	Target      string
	Primary     string // the analysis' primary: the incident's member
	Term        int64
	Kind        string // the analysis kind: the verdict
	Reason      string
	Actor       string   // "auto" or "operator:<name>"
	Result      string   // "executed", "failed: ...", "refused", "dry_run"
	Coordinator string   // the deciding snapshot's coordinator: "" without a quorum
	Witnesses   []string // the sidecars the verdict names (audit analysis.witnesses)
}

// acted reports whether the line is an action carried out (or attempted) automatically.
func (r actionRec) acted() bool {
	return r.Actor == "auto" && r.Action != "" && r.Action != "none" && r.Result != "refused" && r.Result != "dry_run"
}

// failover reports whether the action replaces the primary: a step-up or a step-down.
func (r actionRec) failover() bool { return r.Action == "step_up" || r.Action == "step_down" }

// Verdicts that call for replacing the primary and how many sidecars must testify to each.
var (
	lostVerdicts = []string{"primary_process_dead", "primary_process_unresponsive", "primary_host_unreachable"}
	sickVerdicts = []string{"sick_primary"}
)

// quorumRule is what a verdict needs: the configured sidecars (a majority of them for a lost
// primary, principle 2) and the witnesses of a sick primary (Policy.SickObservers, never < 2).
type quorumRule struct {
	Sidecars      []string
	SickObservers int
}

func (q quorumRule) majority() int { return len(q.Sidecars)/2 + 1 }

// voters are the configured sidecars among the verdict's witnesses (the audit line's
// analysis.witnesses, election.Analysis.Witnesses), each once. The need is computed here from the
// configuration, not taken from the line's own "needed": a decider with a weaker rule is caught.
func (q quorumRule) voters(r actionRec) []string {
	var out []string
	for _, id := range r.Witnesses {
		if slices.Contains(q.Sidecars, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// checkQuorumVerdicts: every automatic failover (step-up, step-down, and a fence that stands in
// for one) was decided with a quorum in sight (a coordinator), on a verdict that calls for it,
// testified by enough sidecars.
func checkQuorumVerdicts(recs []actionRec, q quorumRule) []chaosViolation {
	var out []chaosViolation
	for _, r := range recs {
		if !r.acted() || !(r.failover() || r.Action == "fence") {
			continue
		}
		bad := func(format string, args ...any) {
			out = append(out, chaosViolation{Invariant: invQuorumVerdict, At: r.At, Hosts: []string{r.Target},
				Detail: fmt.Sprintf("%s %s by %s (%s, %s): ", r.Action, r.Target, r.Sidecar, r.Kind, r.Reason) + fmt.Sprintf(format, args...)})
		}
		if r.Coordinator == "" {
			bad("decided without a quorum of sidecars (no coordinator in the audit line)")
			continue
		}
		need := 0
		switch {
		case slices.Contains(lostVerdicts, r.Kind):
			need = q.majority()
		case slices.Contains(sickVerdicts, r.Kind):
			need = max(q.SickObservers, 2)
		case r.Action == "fence" && r.Kind == "stale_primary_lingering":
			continue // a newer term exists: MongoDB's own verdict, the fence only enforces it
		default:
			bad("verdict %q does not call for replacing the primary", r.Kind)
			continue
		}
		if v := q.voters(r); len(v) < need {
			bad("%d sidecar(s) testify %v, the verdict needs %d of %d configured", len(v), v, need, len(q.Sidecars))
		}
	}
	return out
}

// checkAntiFlap: an automatic failover for a new incident within window of the previous one
// needs an operator's acknowledgement in between (election.Policy.AntiFlapWindow). A retry for
// the same incident (same former primary, not re-elected since) is no new failover.
func checkAntiFlap(recs []actionRec, window time.Duration, writable []writableObs) []chaosViolation {
	var fos, acks []actionRec
	for _, r := range recs {
		switch {
		case r.Action == "acknowledge" && r.Result == "executed":
			acks = append(acks, r)
		case r.acted() && r.failover() && r.Result == "executed":
			fos = append(fos, r)
		}
	}
	slices.SortFunc(fos, func(a, b actionRec) int { return a.At.Compare(b.At) })
	var out []chaosViolation
	var last *actionRec
	for i := range fos {
		cur := &fos[i]
		if last != nil && sameIncident(*last, *cur, writable) {
			continue
		}
		if last != nil && cur.At.Sub(last.At) < window-antiFlapSlack && !ackedBetween(acks, last.At, cur.At) {
			out = append(out, chaosViolation{Invariant: invAntiFlap, At: cur.At, Hosts: []string{last.Target, cur.Target},
				Detail: fmt.Sprintf("failover from %s to %s (%s, by %s) %s after the failover from %s to %s (%s, by %s), inside the %s anti-flap window, not acknowledged",
					cur.Primary, cur.Target, cur.Reason, cur.Sidecar, cur.At.Sub(last.At).Round(time.Millisecond),
					last.Primary, last.Target, last.Reason, last.Sidecar, window)})
		}
		last = cur
	}
	return out
}

// antiFlapSlack: audit lines carry the start of each execution, the policy measures its window
// between decisions, a moment earlier each; a failover just past the window is no flap.
const antiFlapSlack = time.Second

// sameIncident: b fails over from the same primary as a, which was not writable again in a
// newer term between them (a re-elected primary that fails again is a new incident).
func sameIncident(a, b actionRec, writable []writableObs) bool {
	if a.Primary != b.Primary {
		return false
	}
	for _, w := range writable {
		if w.Host == a.Primary && w.Term > a.Term && w.At.After(a.At) && w.At.Before(b.At) {
			return false
		}
	}
	return true
}

func ackedBetween(acks []actionRec, from, to time.Time) bool {
	for _, a := range acks {
		if !a.At.Before(from) && a.At.Before(to) {
			return true
		}
	}
	return false
}

// actionSeen is an action some other source says happened: a sidecar's status (last_action,
// Source "status") or the set's history (a failover event, Source "history", Sidecar unknown).
type actionSeen struct {
	At      time.Time
	Source  string
	Sidecar string // "" when the source does not say
	Action  string // "" (history): a step-up or a step-down
	Target  string
	Primary string // history only: the former primary
}

// auditMatchSlack bounds how far a history event's time (the decision) may lie from the audit
// line's (the execution's start, a moment later).
const auditMatchSlack = 5 * time.Second

// checkAudited: every action seen elsewhere has its audit line: status records by sidecar and
// exact start time, history failovers by former primary and target, near in time.
func checkAudited(seen []actionSeen, audit []actionRec) []chaosViolation {
	var out []chaosViolation
	for _, s := range seen {
		found := slices.ContainsFunc(audit, func(r actionRec) bool {
			if s.Action == "" && !r.failover() || s.Action != "" && r.Action != s.Action || r.Target != s.Target || (s.Sidecar != "" && r.Sidecar != s.Sidecar) {
				return false
			}
			if s.Source == "history" {
				d := r.At.Sub(s.At)
				return r.Primary == s.Primary && d > -auditMatchSlack && d < auditMatchSlack
			}
			return r.At.Sub(s.At).Abs() <= time.Millisecond
		})
		if !found {
			who := s.Sidecar
			if who == "" {
				who = "some sidecar"
			}
			out = append(out, chaosViolation{Invariant: invAudited, At: s.At, Hosts: []string{s.Target},
				Detail: fmt.Sprintf("%s says %s executed %s %s, and no audit line records it", s.Source, who, cmp.Or(s.Action, "a failover to"), s.Target)})
		}
	}
	return out
}
