package election

import (
	"fmt"
	"slices"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// replicationLagging tells a replication stall from a healthy set once no sidecar witnesses a
// sick primary (sick.go): w:"majority" probes slow or failing while nothing local to the primary
// is wrong means the secondaries do not acknowledge in time (an applier stopped, a slow
// secondary disk, a saturated link). A w:"majority" write waits for a majority of the
// data-bearing voters to have it durable (spec §7.4), so stepping another member up would
// promote one of the laggards and, in PSA, fence-first would shut the only healthy writer
// down. The class is never actionable; it has its own reason code, metric and gauge so that an
// operator is paged for the lag, not for a failover. healthy is the analysis to return when
// the majority probes are fine.
func (o observed) replicationLagging(c claim, p Policy, healthy Analysis) Analysis {
	var sinces []time.Time
	var ev []string
	for _, id := range o.ids {
		pr := o.views[id].Probe
		if pr.Target != c.host {
			continue
		}
		out := pr.Outstanding && p.ProbeSlow > 0 && o.now.Sub(pr.OutstandingSince) >= p.ProbeSlow
		if pr.FailingSince.IsZero() && !out {
			continue
		}
		since := pr.FailingSince
		if since.IsZero() || out && pr.OutstandingSince.Before(since) {
			since = pr.OutstandingSince
		}
		sinces = append(sinces, since)
		what := fmt.Sprintf("last took %s", pr.LastLatency)
		switch {
		case out:
			what = fmt.Sprintf("outstanding for %s", o.now.Sub(pr.OutstandingSince))
		case pr.LastErr != "":
			what = fmt.Sprintf("%d failed (%s)", pr.ConsecutiveFails, pr.LastErr)
		}
		ev = append(ev, fmt.Sprintf("%s: w:\"majority\" probe of %s %s since %s", id, c.host, what, since.Format(time.RFC3339)))
	}
	if len(sinces) == 0 {
		return healthy
	}
	a := Analysis{Kind: ReplicationLagging, Primary: c.host, Term: c.term, Since: slices.MinFunc(sinces, time.Time.Compare)}
	a.Evidence = append(ev, o.journalEvidence(c.host))
	if lag, who := o.secondaryLag(c.host); who != "" {
		a.Evidence = append(a.Evidence, fmt.Sprintf("secondaries behind the primary (replSetGetStatus optimes): %s, most %s", who, lag))
	}
	return a
}

// journalEvidence says what the w:1 j:true probes of host show: fast, or not reported (a sidecar
// of an older release gossips none).
func (o observed) journalEvidence(host string) string {
	n, best := 0, time.Duration(-1)
	for _, id := range o.ids {
		pr := o.views[id].JournalProbe
		if pr.Target != host || pr.LastOK.IsZero() {
			continue
		}
		n++
		best = max(best, pr.LastLatency)
	}
	if n == 0 {
		return "no sidecar reports a w:1 j:true probe of " + host
	}
	return fmt.Sprintf("w:1 j:true probes of %s fine from %d sidecars (slowest %s): the primary's own write path works", host, n, best)
}

// secondaryLag is how far the data-bearing members trail the primary: the largest lag and a list
// "host lag, ...". Each member's optime is taken from its own sidecar when visible, else from the
// freshest report of the others' mongods (replSetGetStatus members[].optime).
func (o observed) secondaryLag(primary string) (time.Duration, string) {
	ref, ok := o.opTimeOf(primary)
	if !ok {
		return 0, ""
	}
	var worst time.Duration
	var who string
	hosts := o.dataHosts()
	for _, h := range hosts {
		if h == primary {
			continue
		}
		ot, ok := o.opTimeOf(h)
		if !ok {
			continue
		}
		lag := ot.LagBehind(ref)
		if lag <= 0 {
			continue
		}
		worst = max(worst, lag)
		if who != "" {
			who += ", "
		}
		who += fmt.Sprintf("%s %s", h, lag)
	}
	return worst, who
}

// dataHosts lists the configured data members and the data-bearing members the views report.
func (o observed) dataHosts() []string {
	var out []string
	for _, m := range o.snap.Members {
		if m.Mode == topology.ModeData && m.Host != "" && !slices.Contains(out, m.Host) {
			out = append(out, m.Host)
		}
	}
	for _, id := range o.ids {
		for _, ps := range o.views[id].Peers {
			if ps.State != topology.StateArbiter && !slices.Contains(out, ps.Host) {
				out = append(out, ps.Host)
			}
		}
	}
	slices.Sort(out)
	return out
}

// opTimeOf is host's applied optime: first-hand from its own visible sidecar, else the freshest
// healthy report.
func (o observed) opTimeOf(host string) (topology.OpTime, bool) {
	if sc, ok := o.snap.SidecarOf(host); ok {
		if v, ok := o.views[sc.ID]; ok && v.Local.Reachable && !v.Local.OpTime.IsNull() {
			return v.Local.OpTime, true
		}
	}
	if ps, ok := o.bestPeer(host); ok && ps.State != topology.StateArbiter && !ps.OpTime.IsNull() {
		return ps.OpTime, true
	}
	return topology.OpTime{}, false
}
