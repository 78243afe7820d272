package main

import (
	"fmt"
	"github.com/rsguard/rsguard/supervisor/statustext"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/rsguard/rsguard/api"
)

// writeCluster prints GET /v1/cluster for an operator: the verdict and why, the members with
// who sees them, the sidecars, the problems, and what is going on (resync, last failover,
// recent requests).
func writeCluster(w io.Writer, c api.Cluster, addr string) {
	fmt.Fprintf(w, "set %s: %s (as seen by sidecar %s at %s, %s)\n", statustext.Dash(c.Set), strings.ToUpper(statustext.Dash(c.Health)),
		statustext.Dash(c.Sidecar), addr, statustext.Clock(c.Time))
	primary := "NONE"
	if c.Primary != "" {
		primary = c.Primary + statustext.TermSuffix(c.Term)
	}
	fmt.Fprintf(w, "primary:            %s\n", primary)
	coord := c.Coordinator
	if coord == "" {
		coord = "none (no quorum)"
	}
	fmt.Fprintf(w, "coordinator:        %s\n", coord)
	q := c.Quorum
	has := "has quorum"
	if !q.Has {
		has = "NO QUORUM: no sidecar acts"
	}
	fmt.Fprintf(w, "quorum:             %d of %d sidecars visible (%s), %d needed: %s\n", len(q.Visible), q.Configured,
		strings.Join(q.Visible, ", "), q.Needed, has)
	fmt.Fprintf(w, "automatic failover: %s\n", automaticText(c.AutomaticFailover))
	pause := "no"
	if p := c.Paused; p != nil {
		pause = fmt.Sprintf("PAUSED by %s at %s%s (no automatic action until resumed)", statustext.Dash(p.By), statustext.Clock(p.At), statustext.Optional(": ", p.Why))
	}
	fmt.Fprintf(w, "paused:             %s\n", pause)
	a := c.Analysis
	fmt.Fprintf(w, "analysis:           %s%s\n", statustext.Dash(a.Kind), statustext.Optional(" (primary ", a.Primary, ")"))
	for _, ev := range a.Evidence {
		fmt.Fprintf(w, "  evidence:         %s\n", ev)
	}
	if f := c.LastFailover; f != nil {
		fmt.Fprintf(w, "last failover:      %s%s%s%s\n", statustext.Clock(f.At), statustext.Optional(" to ", f.To), statustext.Optional(" by ", f.By), statustext.Optional(", reason ", f.Reason))
	}
	if r := c.Resync; r != nil {
		pct := "progress unknown"
		if r.Percent >= 0 {
			pct = fmt.Sprintf("%.0f%%", r.Percent)
		}
		fmt.Fprintf(w, "resync:             %s %s, %s%s%s\n", r.Member, statustext.Dash(r.Phase), pct, statustext.Optional(", reason ", r.Reason), statustext.Optional(", by ", r.By))
	}
	if len(c.Problems) > 0 {
		fmt.Fprintln(w, "problems:")
		for _, p := range c.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
	fmt.Fprintln(w)
	writeClusterMembers(w, c.Members)
	fmt.Fprintln(w)
	writeClusterSidecars(w, c.Sidecars)
	if len(c.Requests) > 0 {
		fmt.Fprintln(w)
		writeRequests(w, c.Requests)
	}
}

// automaticText says whether automatic failover may act, and if not, why.
func automaticText(a api.Automatic) string {
	switch {
	case !a.Enabled && len(a.Blocked) == 0:
		return "DISABLED"
	case !a.Enabled:
		return "DISABLED, blocked: " + strings.Join(a.Blocked, ", ")
	case len(a.Blocked) > 0:
		return "BLOCKED: " + strings.Join(a.Blocked, ", ")
	}
	return "enabled, may act"
}

func writeClusterMembers(w io.Writer, ms []api.Member) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tSIDECAR\tSTATE\tHEALTHY\tLAG\tPRIORITY\tVOTES\tSEEN BY\tNOT SEEN BY")
	for _, m := range ms {
		state := statustext.Dash(m.State)
		if m.Hidden {
			state += " (hidden)"
		}
		if m.Class != "" {
			state += " [" + m.Class + "]"
		}
		lag := "-"
		if !m.Arbiter && m.State != "ARBITER" {
			lag = fmt.Sprintf("%gs", m.LagSecs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%g\t%d\t%s\t%s\n", statustext.Dash(m.Host), statustext.Dash(m.Sidecar), state, yesNo(m.Healthy), lag,
			m.Priority, m.Votes, list(m.SeenBy), list(m.UnseenBy))
	}
	_ = tw.Flush()
}

func writeClusterSidecars(w io.Writer, ss []api.Sidecar) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SIDECAR\tMODE\tALIVE\tREADY\tVIEW AGE\tMONGOD")
	for _, s := range ss {
		age := "never"
		if s.AgeSecs >= 0 {
			age = fmt.Sprintf("%.1fs", s.AgeSecs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, statustext.Dash(s.Mode), yesNo(s.Alive), yesNo(s.Ready), age, statustext.Dash(s.Mongod))
	}
	_ = tw.Flush()
}

// writeRequests is the table of recent operator requests.
func writeRequests(w io.Writer, rs []api.ActionResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tACTION\tSTATE\tREASON\tACTOR\tTO\tCREATED")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Action, r.State, statustext.Dash(r.Reason), statustext.Dash(r.Actor), statustext.Dash(r.To), statustext.Clock(r.Created))
	}
	_ = tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func list(ss []string) string {
	if len(ss) == 0 {
		return "-"
	}
	return strings.Join(ss, ",")
}
