package election

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// sickPrimary looks for a gray failure: heartbeats and hello flow, so MongoDB never calls an
// election, but writes are stalled (failover-notes "Sick primary"). Each visible sidecar is one
// witness at most; the verdict needs Policy.SickObservers of them for Policy.SickAfter. Without
// any witness, slow w:"majority" writes are a replication stall, not sickness.
func (o observed) sickPrimary(c claim, p Policy) Analysis {
	a := Analysis{Kind: Healthy, Primary: c.host, Term: c.term, Since: o.now,
		Evidence: []string{fmt.Sprintf("primary %s in term %d, writes flowing", c.host, c.term)}}
	var sinces []time.Time
	var ev []string
	for _, id := range o.ids {
		since, why, ok := o.witness(id, c.host, p)
		if !ok {
			continue
		}
		sinces = append(sinces, since)
		a.Witnesses = append(a.Witnesses, id)
		ev = append(ev, fmt.Sprintf("%s: %s since %s", id, why, since.Format(time.RFC3339)))
	}
	if len(sinces) == 0 {
		return o.replicationLagging(c, p, a)
	}
	a.Evidence = ev
	need := p.sickObservers()
	a.Needed = need
	slices.SortFunc(sinces, time.Time.Compare)
	a.Since = sinces[0]
	if len(sinces) < need {
		a.Kind = SickPrimaryUncorroborated
		a.Evidence = append(a.Evidence, fmt.Sprintf("%d of %d witnesses needed", len(sinces), need))
		return a
	}
	// The condition is corroborated from the moment the need-th witness joined.
	a.Since = sinces[need-1]
	if o.now.Sub(a.Since) < p.SickAfter {
		a.Kind = SickPrimaryPending
		a.Evidence = append(a.Evidence, fmt.Sprintf("corroborated for %s, acting after %s", o.now.Sub(a.Since), p.SickAfter))
		return a
	}
	a.Kind = SickPrimary
	return a
}

// witness reports whether sidecar id testifies that host's own write path is stalled, since when
// and why. Only evidence local to the primary counts (DESIGN.md principle 2): the sidecar's w:1
// j:true probe, which needs nothing from the secondaries, and, from the primary's own sidecar,
// its mongod's lastWrite. The w:"majority" probe is no witness: it stalls just as well when the
// secondaries lag (election/lagging.go).
func (o observed) witness(id, host string, p Policy) (time.Time, string, bool) {
	v := o.views[id]
	var since time.Time
	var why []string
	note := func(t time.Time, w string) {
		if t.IsZero() {
			t = v.ObservedAt
		}
		if since.IsZero() || t.Before(since) {
			since = t
		}
		why = append(why, w)
	}
	for _, e := range o.probeTrouble(v.JournalProbe, host, p) {
		note(e.since, "w:1 j:true "+e.why)
	}
	if l := v.Local; l.Host == host && l.Reachable && l.State == topology.StatePrimary {
		// A primary writes a no-op every 10 s when idle (spec §5.4): a lastWrite this old
		// means writes are not completing.
		if p.WriteStall > 0 && !l.LastWrite.IsZero() && o.now.Sub(l.LastWrite) >= p.WriteStall {
			note(l.LastWrite, fmt.Sprintf("lastWrite stalled for %s", o.now.Sub(l.LastWrite)))
		}
	}
	if len(why) == 0 {
		return time.Time{}, "", false
	}
	return since, strings.Join(why, "; "), true
}

// trouble is one finding about a write probe.
type trouble struct {
	since time.Time
	why   string
}

// probeTrouble lists what is wrong with one write probe against host: failures in a row,
// an attempt outstanding, or a slow completion, each by Policy's thresholds.
func (o observed) probeTrouble(pr topology.WriteProbe, host string, p Policy) []trouble {
	if pr.Target != host || host == "" {
		return nil
	}
	var out []trouble
	start := pr.FailingSince
	if start.IsZero() {
		start = pr.LastOK
	}
	if pr.ConsecutiveFails >= p.probeFailures() {
		out = append(out, trouble{start, fmt.Sprintf("%d write probes failed (%s)", pr.ConsecutiveFails, pr.LastErr)})
	}
	if pr.Outstanding && p.ProbeSlow > 0 && o.now.Sub(pr.OutstandingSince) >= p.ProbeSlow {
		out = append(out, trouble{pr.OutstandingSince, fmt.Sprintf("write probe outstanding for %s", o.now.Sub(pr.OutstandingSince))})
	}
	if p.ProbeSlow > 0 && pr.LastLatency >= p.ProbeSlow && !pr.FailingSince.IsZero() {
		out = append(out, trouble{pr.FailingSince, fmt.Sprintf("write probe took %s", pr.LastLatency)})
	}
	return out
}

// ownWitness reports whether the primary's own sidecar is visible and itself witnesses the
// stall: the only testimony on which its mongod may be shut down (never on remote probes alone).
func ownWitness(snap topology.Snapshot, host string, p Policy) bool {
	sc, ok := snap.SidecarOf(host)
	if !ok || !snap.Visible(sc.ID) {
		return false
	}
	o := observe(snap)
	_, _, ok = o.witness(sc.ID, host, p)
	return ok
}
