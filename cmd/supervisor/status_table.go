package main

import (
	"fmt"
	"github.com/rsguard/rsguard/supervisor/statustext"
	"io"
	"strings"
	"time"

	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/supervisor"
)

// writeStatus prints a status report for an operator: identity and readiness, the members table,
// who sees what, the analysis with its evidence, the last decision and action, the quorum.
func writeStatus(w io.Writer, r supervisor.StatusReport, addr string) {
	ready := "ready"
	if !r.Ready {
		ready = "NOT READY"
	}
	fmt.Fprintf(w, "sidecar %s (%s, set %s%s) at %s: %s, as of %s\n", r.Sidecar, r.Mode, r.Set,
		statustext.Optional(", zone ", r.Zone), addr, ready, r.Time.Local().Format("15:04:05.000"))
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
	statustext.WriteMembers(w, r)
	fmt.Fprintln(w)
	statustext.WriteSeenBy(w, r)
	fmt.Fprintln(w)

	a := r.Analysis
	fmt.Fprintf(w, "analysis:     %s%s\n", a.Kind, statustext.Optional(" (primary ", a.Primary, statustext.TermSuffix(a.Term), ")"))
	fmt.Fprintf(w, "              %s\n", statustext.ExplainKind(a.Kind))
	for _, ev := range a.Evidence {
		fmt.Fprintf(w, "  evidence:   %s\n", ev)
	}
	d := r.Decision
	fmt.Fprintf(w, "decision:     %s, reason %s%s\n", d.Action, d.Reason, statustext.Optional(" at ", statustext.Clock(d.At)))
	fmt.Fprintf(w, "              %s\n", statustext.ExplainReason(d.Reason))
	if !d.Proposed.IsNone() && d.Proposed != d.Action {
		fmt.Fprintf(w, "  proposed:   %s (not executed: %s)\n", d.Proposed, d.Reason)
	}
	if la := r.LastAction; la != nil {
		fmt.Fprintf(w, "last action:  %s %s in %dms at %s (reason %s)\n", la.Action, la.Result, la.Millis, statustext.Clock(la.At), la.Reason)
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
		fmt.Fprintf(w, ", blocked until %s (last failover to %s; acknowledge to lift)", statustext.Clock(p.AntiFlapUntil), p.LastFailover.To)
	}
	if pause := p.Memory.Pause; pause.Paused {
		fmt.Fprintf(w, "; PAUSED by %s at %s%s (no automatic action until resumed)", pause.By, statustext.Clock(pause.At), statustext.Optional(": ", pause.Why))
	}
	fmt.Fprintln(w)
	if p.ElectionQuiet != "" {
		fmt.Fprintf(w, "election quiet: %s after a term begins", p.ElectionQuiet)
		if left := p.ElectionQuietUntil.Sub(r.Time); left > 0 {
			fmt.Fprintf(w, "; term %d began recently, quiet for %s more (until %s)", p.ElectionQuietTerm, left.Round(100*time.Millisecond), statustext.Clock(p.ElectionQuietUntil))
		}
		fmt.Fprintln(w)
	}
	if wp := r.Probe; wp.Target != "" {
		fmt.Fprintf(w, "write probe:  %s, last latency %s%s\n", wp.Target, wp.LastLatency.Round(time.Millisecond),
			statustext.Optional(", failing: ", wp.LastErr))
	}
	if wp := r.JournalProbe; wp.Target != "" {
		fmt.Fprintf(w, "w:1 j:true:   %s, last latency %s%s\n", wp.Target, wp.LastLatency.Round(time.Millisecond),
			statustext.Optional(", failing: ", wp.LastErr))
	}
	if pr := r.Process; pr != nil {
		state := "DOWN"
		if pr.Running {
			state = fmt.Sprintf("running, pid %d", pr.Pid)
		}
		fmt.Fprintf(w, "mongod process: %s (controller %s), %d recent exit(s)%s%s%s\n", state, pr.Controller, pr.RecentExits,
			statustext.Optional(", last: ", pr.LastExit), map[bool]string{true: ", adopted"}[pr.Adopted], map[bool]string{true: ", FENCED: kept down until a newer primary is healthy"}[pr.Fenced])
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
		line += fmt.Sprintf(", mongod %s, %s", statustext.Dash(pr.State), progressText(pr))
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
