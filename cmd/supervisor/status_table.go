package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/supervisor"
	"github.com/rsguard/rsguard/topology"
)

// writeStatus prints a status report for an operator: identity and readiness, the members table,
// who sees what, the analysis with its evidence, the last decision and action, the quorum.
func writeStatus(w io.Writer, r supervisor.StatusReport, addr string) {
	ready := "ready"
	if !r.Ready {
		ready = "NOT READY"
	}
	fmt.Fprintf(w, "sidecar %s (%s, set %s%s) at %s: %s, as of %s\n", r.Sidecar, r.Mode, r.Set,
		optional(", zone ", r.Zone), addr, ready, r.Time.Local().Format("15:04:05.000"))
	for _, why := range r.NotReady {
		fmt.Fprintf(w, "  not ready: %s\n", why)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	if r.LocalError != "" {
		fmt.Fprintf(w, "  local mongod: %s\n", r.LocalError)
	}
	fmt.Fprintln(w)
	writeMembers(w, r)
	fmt.Fprintln(w)
	writeSeenBy(w, r)
	fmt.Fprintln(w)

	a := r.Analysis
	fmt.Fprintf(w, "analysis:     %s%s\n", a.Kind, optional(" (primary ", a.Primary, termSuffix(a.Term), ")"))
	fmt.Fprintf(w, "              %s\n", explainKind(a.Kind))
	for _, ev := range a.Evidence {
		fmt.Fprintf(w, "  evidence:   %s\n", ev)
	}
	d := r.Decision
	fmt.Fprintf(w, "decision:     %s, reason %s%s\n", d.Action, d.Reason, optional(" at ", clock(d.At)))
	fmt.Fprintf(w, "              %s\n", explainReason(d.Reason))
	if !d.Proposed.IsNone() && d.Proposed != d.Action {
		fmt.Fprintf(w, "  proposed:   %s (not executed: %s)\n", d.Proposed, d.Reason)
	}
	if la := r.LastAction; la != nil {
		fmt.Fprintf(w, "last action:  %s %s in %dms at %s (reason %s)\n", la.Action, la.Result, la.Millis, clock(la.At), la.Reason)
	}
	coord := r.Coordinator
	switch {
	case coord == "":
		coord = "none (no quorum)"
	case r.IsCoordinator:
		coord += " (this sidecar)"
	}
	fmt.Fprintf(w, "coordinator:  %s\n", coord)
	q := r.Quorum
	has := "has quorum"
	if !q.Has {
		has = "NO QUORUM: this sidecar never acts"
	}
	fmt.Fprintf(w, "quorum:       %d of %d sidecars visible (%s), %d needed: %s\n", len(q.Visible), q.Configured,
		strings.Join(q.Visible, ", "), q.Needed, has)
	p := r.Policy
	pol := "failover enabled"
	switch {
	case !p.Enabled:
		pol = "failover DISABLED (observe only)"
	case p.DryRun:
		pol = "DRY RUN (decides, never executes)"
	}
	fmt.Fprintf(w, "policy:       %s, anti-flap window %s", pol, p.AntiFlapWindow)
	if !p.AntiFlapUntil.IsZero() && p.AntiFlapUntil.After(r.Time) {
		fmt.Fprintf(w, ", blocked until %s (last failover to %s; acknowledge to lift)", clock(p.AntiFlapUntil), p.LastFailover.To)
	}
	if pause := p.Memory.Pause; pause.Paused {
		fmt.Fprintf(w, "; PAUSED by %s at %s%s (no automatic action until resumed)", pause.By, clock(pause.At), optional(": ", pause.Why))
	}
	fmt.Fprintln(w)
	if p.ElectionQuiet != "" {
		fmt.Fprintf(w, "election quiet: %s after a term begins", p.ElectionQuiet)
		if left := p.ElectionQuietUntil.Sub(r.Time); left > 0 {
			fmt.Fprintf(w, "; term %d began recently, quiet for %s more (until %s)", p.ElectionQuietTerm, left.Round(100*time.Millisecond), clock(p.ElectionQuietUntil))
		}
		fmt.Fprintln(w)
	}
	if wp := r.Probe; wp.Target != "" {
		fmt.Fprintf(w, "write probe:  %s, last latency %s%s\n", wp.Target, wp.LastLatency.Round(time.Millisecond),
			optional(", failing: ", wp.LastErr))
	}
	if wp := r.JournalProbe; wp.Target != "" {
		fmt.Fprintf(w, "w:1 j:true:   %s, last latency %s%s\n", wp.Target, wp.LastLatency.Round(time.Millisecond),
			optional(", failing: ", wp.LastErr))
	}
	if pr := r.Process; pr != nil {
		state := "DOWN"
		if pr.Running {
			state = fmt.Sprintf("running, pid %d", pr.Pid)
		}
		fmt.Fprintf(w, "mongod process: %s (controller %s), %d recent exit(s)%s%s%s\n", state, pr.Controller, pr.RecentExits,
			optional(", last: ", pr.LastExit), map[bool]string{true: ", adopted"}[pr.Adopted], map[bool]string{true: ", FENCED: kept down until a newer primary is healthy"}[pr.Fenced])
	}
	if rs := r.Resync; rs != nil {
		fmt.Fprintf(w, "resync:       %s\n", resyncLine(rs))
	}
}

// resyncLine is the status's one line about the member's resync.
func resyncLine(rs *supervisor.ResyncStatus) string {
	p := rs.Plan
	if p == nil {
		return fmt.Sprintf("needed but refused: %s", rs.Refused)
	}
	line := fmt.Sprintf("plan %s, step %s", p.ID, p.Step)
	if p.Step == recovery.StepSync {
		pr := p.Progress
		line += fmt.Sprintf(", mongod %s, %s", dash(pr.State), progressText(pr))
	}
	if p.Error != "" {
		line += ", last error: " + p.Error
	}
	return line
}

// progressText is a text progress bar with the bytes and mongod's estimate of the time left.
func progressText(pr recovery.ResyncProgress) string {
	if pr.TotalBytes <= 0 {
		return "no progress reported yet"
	}
	const width = 20
	done := int(pr.Fraction() * width)
	bar := strings.Repeat("#", done) + strings.Repeat(".", width-done)
	eta := "ETA unknown"
	if pr.Remaining > 0 {
		eta = "ETA " + pr.Remaining.Round(time.Second).String()
	}
	return fmt.Sprintf("[%s] %3.0f%% of %d bytes copied, %s", bar, 100*pr.Fraction(), pr.TotalBytes, eta)
}

// writeMembers is the members table: one row per configured sidecar and per extra member.
func writeMembers(w io.Writer, r supervisor.StatusReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tSIDECAR\tSTATE\tOPTIME\tLAG\tSIDECAR VIEW")
	for _, m := range r.Members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", dash(m.Host), dash(m.Sidecar), dash(m.State),
			optimeText(m.OpTime), lagText(m), sidecarText(m))
	}
	_ = tw.Flush()
}

// writeSeenBy is "who sees what": rows are hosts, columns the sidecars whose views count.
func writeSeenBy(w io.Writer, r supervisor.StatusReport) {
	var cols []string
	for _, m := range r.Members {
		for id := range m.SeenBy {
			if !slices.Contains(cols, id) {
				cols = append(cols, id)
			}
		}
	}
	slices.Sort(cols)
	if len(cols) == 0 {
		fmt.Fprintln(w, "who sees what: no sidecar view counts yet")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SEEN BY\t%s\n", strings.Join(upper(cols), "\t"))
	for _, m := range r.Members {
		if m.Host == "" {
			continue
		}
		cells := make([]string, len(cols))
		for i, id := range cols {
			cells[i] = seenText(m.SeenBy[id])
		}
		fmt.Fprintf(tw, "%s\t%s\n", m.Host, strings.Join(cells, "\t"))
	}
	_ = tw.Flush()
}

func seenText(s supervisor.Seen) string {
	switch {
	case s.Reach == "" && s.State == "":
		return "-"
	case s.Reach == "yes":
		return dash(s.State)
	case s.Reach == "no":
		return "UNREACHABLE"
	}
	if s.State != "" {
		return s.State + "?"
	}
	return "?"
}

func sidecarText(m supervisor.MemberRow) string {
	if m.Sidecar == "" {
		return "-"
	}
	switch {
	case m.ViewAgeSeconds < 0:
		return "no view yet"
	case !m.SidecarAlive:
		return fmt.Sprintf("DOWN (view %.1fs old)", m.ViewAgeSeconds)
	case !m.SidecarVisible:
		return fmt.Sprintf("stale (view %.1fs old)", m.ViewAgeSeconds)
	}
	return fmt.Sprintf("ok (%.1fs)", m.ViewAgeSeconds)
}

func lagText(m supervisor.MemberRow) string {
	if m.OpTime.IsNull() || m.State == "ARBITER" {
		return "-"
	}
	return fmt.Sprintf("%gs", m.LagSeconds)
}

func optimeText(o topology.OpTime) string {
	if o.IsNull() {
		return "-"
	}
	return fmt.Sprintf("%s #%d t%d", o.Time().Local().Format("15:04:05"), o.Inc(), o.Term)
}

func termSuffix(t int64) string {
	if t == 0 {
		return ""
	}
	return fmt.Sprintf(", term %d", t)
}

func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("15:04:05.000")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func upper(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToUpper(s)
	}
	return out
}

// optional joins parts when the second one (the value) is not empty, else returns "".
func optional(prefix, value string, rest ...string) string {
	if value == "" {
		return ""
	}
	return prefix + value + strings.Join(rest, "")
}

// explainKind says what an analysis means, in words an on-call engineer can act on.
func explainKind(k election.Kind) string {
	switch k {
	case election.Healthy:
		return "one primary, reachable by the quorum, writes flowing"
	case election.LostQuorum:
		return "this sidecar sees fewer than a majority of the sidecars: it may be cut off, so it never acts"
	case election.NoPrimary:
		return "nobody claims to be primary and no election is visible yet: MongoDB's election timer is running"
	case election.ElectionInProgress:
		return "MongoDB is electing (a member is a candidate or already in a newer term): rsguard waits"
	case election.PrimaryProcessDead:
		return "the primary's mongod is gone: its own sidecar gets connection refused and a quorum cannot reach it"
	case election.PrimaryProcessUnresponsive:
		return "the primary's mongod is hung: its own sidecar times out and a quorum cannot reach it"
	case election.PrimaryHostUnreachable:
		return "neither the primary nor its sidecar can be reached by a quorum: the host is down or cut off"
	case election.PrimaryUnreachableFromMeOnly:
		return "only this sidecar lost the primary: a local network problem, never a reason to fail over"
	case election.PrimaryUnreachableUncorroborated:
		return "some sidecars lost the primary but not a quorum (or its own sidecar still reaches it): MongoDB resolves this"
	case election.SickPrimary:
		return "the primary answers but cannot commit writes, confirmed by several sidecars for long enough"
	case election.SickPrimaryUncorroborated:
		return "write trouble on the primary, but seen by too few sidecars to act"
	case election.SickPrimaryPending:
		return "confirmed write trouble on the primary, not yet lasting long enough to act"
	case election.SplitBrainSuspected:
		return "two members claim PRIMARY: the newer term wins and the older one steps down by itself"
	case election.StalePrimaryLingering:
		return "an old primary still claims PRIMARY long after a newer term began: its own sidecar fences it"
	case election.PrimaryCatchingUp:
		return "a new primary won its election and is catching up before it accepts writes"
	case election.ReplicationLagging:
		return "the secondaries lag: w:\"majority\" writes stall while the primary's own (w:1 j:true) writes are fast; not a failover matter"
	case election.ElectionQuietPeriod:
		return "nobody is electing, but a term began less than failover.election_quiet ago: rsguard waits the rest of the quiet period"
	case election.PrimaryUnreachableSidecarsOnly:
		return "the sidecars lost the primary, but a majority of the mongods still get heartbeat replies from it: the sidecars' network is cut, not the primary"
	}
	return "unknown analysis"
}

// explainReason says why a decision acted or refused.
func explainReason(r election.Reason) string {
	switch r {
	case election.ReasonHealthy:
		return "nothing to do"
	case election.ReasonPrimaryProcessDead, election.ReasonPrimaryProcessUnresponsive, election.ReasonPrimaryHostUnreachable:
		return "acting: the quorum agrees the primary is lost, so the freshest electable secondary is stepped up"
	case election.ReasonSickPrimary:
		return "acting: the primary is sick, so a caught-up secondary is stepped up"
	case election.ReasonSickPrimaryFenceFirst:
		return "acting: the sick primary is fenced first, because the arbiter refuses to vote while it looks healthy"
	case election.ReasonStalePrimaryFence:
		return "acting: a former primary that cannot step down is stopped by its own sidecar"
	case election.ReasonCatchUpWaitsOnLostPrimary:
		return "acting: the new primary only waits for the lost primary to be marked down and no member is ahead, so its catch-up is ended"
	case election.RefusedCatchUpNotOurs:
		return "waiting: MongoDB finishes this catch-up on its own"
	case election.RefusedFormerPrimaryAnswering:
		return "waiting: the former primary answers again, so catch-up ends by itself with its writes"
	case election.RefusedCatchUpSourceAhead:
		return "waiting: a member is ahead of the new primary (or unknown), catch-up fetches from it"
	case election.ReasonFreezeFormerPrimary:
		return "acting: the former primary is frozen so that it does not run for election again at once"
	case election.RefusedNoQuorum:
		return "refused: this sidecar does not see a majority of the sidecars"
	case supervisor.ReasonReadySettling:
		return "refused: this sidecar became ready a moment ago and would act for another member's sidecar; it waits one settle period for fresh views"
	case election.RefusedNotExecutor:
		return "not here: the action is addressed to another sidecar (the executor), which carries it out"
	case election.RefusedNoExecutor:
		return "refused: no visible sidecar can carry the action out (the target's own sidecar is out of sight and no other holds credentials to reach it)"
	case election.RefusedAntiFlap:
		return "refused: a failover already happened within the anti-flap window; acknowledge it to allow another"
	case election.RefusedPolicyDisabled:
		return "refused: failover is disabled in the configuration"
	case election.RefusedDryRun:
		return "refused: dry run, the decision is only logged and audited"
	case election.RefusedNoCandidate:
		return "refused: no secondary is reachable, electable and fresh enough"
	case election.RefusedElectionInProgress:
		return "refused: MongoDB is electing on its own; stepping in would race it"
	case election.RefusedNoPrimary:
		return "refused: no primary is known, MongoDB's own election timer is running"
	case election.RefusedNewerPrimaryExists:
		return "refused: a primary in a newer term exists"
	case election.RefusedNotCorroborated:
		return "refused: not enough sidecars agree"
	case election.RefusedNotSustained:
		return "refused: the trouble has not lasted long enough yet"
	case election.RefusedActionPending:
		return "waiting: the action was issued and its outcome is awaited"
	case election.RefusedFenceDisabled:
		return "refused: fencing is disabled in the configuration"
	case election.RefusedFenceUnreachable:
		return "refused: the sidecar that would fence cannot be reached"
	case election.RefusedReplicationLagging:
		return "refused: replacing a healthy primary would promote a lagging member; fix the secondaries (alert on rsguard_supervisor_replication_lagging)"
	case election.RefusedFenceNoLocalEvidence:
		return "refused: the primary's own sidecar does not see its writes stall, and remote probes alone never shut a mongod down"
	case election.RefusedElectionQuiet:
		return "refused: a term began recently (failover.election_quiet); waiting for MongoDB's election to settle"
	case election.RefusedMongodsReachPrimary:
		return "refused: the mongods still exchange heartbeats with the primary, so replacing it would fix nothing"
	case supervisor.ReasonNotReady:
		return "refused: the sidecar is not ready yet (see the readiness reasons)"
	case election.RefusedPaused:
		return "refused: an operator paused automatic actions on every sidecar; resume to allow them"
	}
	return "see the reason code"
}
