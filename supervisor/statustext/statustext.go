// Package statustext renders a sidecar's status report as text: the members table, who sees
// what, and plain words for the analysis kinds and reason codes. The CLI (status, actions,
// history) and the demo print through it, so both say the same thing.
package statustext

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/supervisor"
	"github.com/rsguard/rsguard/topology"
)

// WriteMembers is the members table: one row per configured sidecar and per extra member.
func WriteMembers(w io.Writer, r supervisor.StatusReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tSIDECAR\tSTATE\tOPTIME\tLAG\tSIDECAR VIEW")
	for _, m := range r.Members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", Dash(m.Host), Dash(m.Sidecar), Dash(m.State),
			optimeText(m.OpTime), lagText(m), sidecarText(m))
	}
	_ = tw.Flush()
}

// WriteSeenBy is "who sees what": rows are hosts, columns the sidecars whose views count.
func WriteSeenBy(w io.Writer, r supervisor.StatusReport) {
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
		return Dash(s.State)
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

func TermSuffix(t int64) string {
	if t == 0 {
		return ""
	}
	return fmt.Sprintf(", term %d", t)
}

func Clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("15:04:05.000")
}

func Dash(s string) string {
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

// Optional joins parts when the second one (the value) is not empty, else returns "".
func Optional(prefix, value string, rest ...string) string {
	if value == "" {
		return ""
	}
	return prefix + value + strings.Join(rest, "")
}

// ExplainKind says what an analysis means, in words an on-call engineer can act on.
func ExplainKind(k election.Kind) string {
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

// ExplainReason says why a decision acted or refused.
func ExplainReason(r election.Reason) string {
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
