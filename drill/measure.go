package drill

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rsguard/rsguard/api"
)

// Measure computes a run's Result from what it recorded. It is pure: no clock, no I/O.
func Measure(rec Recording) Result {
	r := Result{Scenario: rec.Scenario, Run: rec.Run, Target: rec.Target, Fault: rec.Fault,
		Subject: rec.Subject, FormerPrimary: rec.FormerPrimary, DurationMs: MsOf(rec.End.Sub(rec.Start))}
	off := func(t time.Time) *Ms { return ptr(MsOf(t.Sub(rec.Fault))) }
	mark := func(t time.Time, k MarkKind, format string, args ...any) {
		r.Timeline = append(r.Timeline, Mark{AtMs: MsOf(t.Sub(rec.Fault)), Kind: k, What: fmt.Sprintf(format, args...)})
	}
	mark(rec.Fault, MarkFault, "fault: %s", rec.Scenario)

	if at, what, ok := detection(rec); ok && !rec.Expect.Planned {
		r.DetectionMs, r.Detection = off(at), what
		mark(at, MarkDetection, "%s", what)
	}
	if at, reason, ok := decision(rec); ok {
		r.DecisionMs, r.Decision = off(at), reason
		mark(at, MarkDecision, "decision: %s", reason)
	}
	if at, p, n := primaries(rec); p != "" {
		r.NewPrimaryMs, r.NewPrimary, r.Failovers = off(at), p, n
		mark(at, MarkNewPrimary, "new primary %s", p)
	}
	writes(rec, &r, off, mark)
	if !rec.Undo.IsZero() {
		r.UndoMs = off(rec.Undo)
		mark(rec.Undo, MarkUndo, "fault undone")
	}
	if at, ok := recovered(rec); ok {
		r.RecoveredMs = off(at)
		from := rec.Fault
		if !rec.Undo.IsZero() {
			from = rec.Undo
		}
		r.RecoveryMs = ptr(MsOf(at.Sub(from)))
		mark(at, MarkRecovered, "%s back in the set", rec.Subject)
	}
	for _, ev := range rec.Events {
		if isRunArchive(&rec, ev) {
			r.RollbackFiles++
			mark(ev.Time, MarkRollback, "%s", ev.Summary)
		}
	}
	for _, n := range rec.Notes {
		mark(n.At, MarkNote, "%s", n.What)
	}
	slices.SortStableFunc(r.Timeline, func(a, b Mark) int { return int(a.AtMs - b.AtMs) })
	r.Audit = slices.Clone(rec.Audit)
	r.Linearizability = rec.Linearizability
	r.Problems = append(slices.Clone(rec.Problems), expectations(rec, r)...)
	r.Verdict = VerdictPass
	if len(r.Problems) > 0 {
		r.Verdict = VerdictFail
	}
	return r
}

// detection is the first incident the sidecars raised about the subject after the fault, or
// failing that the first audit line analysing it as in trouble.
func detection(rec Recording) (time.Time, string, bool) {
	var at time.Time
	what := ""
	for _, ev := range rec.Events {
		if ev.Kind == api.EventIncident && ev.Member == rec.Subject && !ev.Time.Before(rec.Fault) && (at.IsZero() || ev.Time.Before(at)) {
			at, what = ev.Time, ev.Summary
		}
	}
	for _, raw := range rec.Audit {
		l, ok := parseAudit(raw)
		if !ok || l.Time.Before(rec.Fault) || l.Analysis.Primary != rec.Subject || !inTrouble(l.Analysis.Kind) {
			continue
		}
		if at.IsZero() || l.Time.Before(at) {
			at, what = l.Time, fmt.Sprintf("audit: %s %s (%s)", l.Analysis.Primary, l.Analysis.Kind, l.Reason)
		}
	}
	return at, what, !at.IsZero()
}

// troubleKinds are the analysis kinds (election.Kind) that name the primary dead, unreachable
// or sick: what detection means. Others (a split brain suspected while the deposed primary still
// says PRIMARY, an election in progress) follow from the fault rather than detect it.
var troubleKinds = []string{"primary_process_", "primary_host_", "primary_unreachable", "sick_primary"}

func inTrouble(kind string) bool {
	for _, k := range troubleKinds {
		if strings.HasPrefix(kind, k) {
			return true
		}
	}
	return false
}

// decision is rsguard's first act after the fault: a failover or an operator action's end,
// else the first executed audit line.
func decision(rec Recording) (time.Time, string, bool) {
	var at time.Time
	reason := ""
	for _, ev := range rec.Events {
		if (ev.Kind == api.EventFailover || ev.Kind == api.EventAction) && !ev.Time.Before(rec.Fault) && (at.IsZero() || ev.Time.Before(at)) {
			at, reason = ev.Time, ev.Reason
		}
	}
	if !at.IsZero() {
		return at, reason, true
	}
	for _, raw := range rec.Audit {
		l, ok := parseAudit(raw)
		if ok && !l.Time.Before(rec.Fault) && l.Reason != "" && strings.HasPrefix(l.Result, "executed") && (at.IsZero() || l.Time.Before(at)) {
			at, reason = l.Time, l.Reason
		}
	}
	return at, reason, !at.IsZero()
}

// primaries returns the first primary other than the former one seen after the fault, and how
// many times the primary changed during the run.
func primaries(rec Recording) (time.Time, string, int) {
	var at time.Time
	first, last, changes := "", rec.FormerPrimary, 0
	for _, s := range rec.States {
		p := primaryOf(s.Members)
		if p == "" || s.At.Before(rec.Fault) {
			continue
		}
		if p != last {
			changes++
			last = p
		}
		if first == "" && p != rec.FormerPrimary {
			at, first = s.At, p
		}
	}
	return at, first, changes
}

// recovered is the first time the subject was SECONDARY (or PRIMARY, when no failover was
// expected) after the undo, or after the fault when nothing was undone.
func recovered(rec Recording) (time.Time, bool) {
	if rec.Subject == "" {
		return time.Time{}, false
	}
	from := rec.Fault
	if !rec.Undo.IsZero() {
		from = rec.Undo
	}
	for _, s := range rec.States {
		if s.At.Before(from) {
			continue
		}
		for _, m := range s.Members {
			// After a failover the former primary must come back as a SECONDARY; a stale
			// PRIMARY seen right after a thaw is not a recovery.
			if m.Host == rec.Subject && (m.Role == RoleSecondary || m.Role == RoleArbiter || (m.Role == RolePrimary && !rec.Expect.Failover)) {
				return s.At, true
			}
		}
	}
	return time.Time{}, false
}
