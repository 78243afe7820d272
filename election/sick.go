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
// witness at most; the verdict needs Policy.SickObservers of them for Policy.SickAfter.
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
		ev = append(ev, fmt.Sprintf("%s: %s since %s", id, why, since.Format(time.RFC3339)))
	}
	if len(sinces) == 0 {
		return a
	}
	a.Evidence = ev
	need := p.sickObservers()
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

// witness reports whether sidecar id testifies that host's writes are stalled, since when and why.
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
	if pr := v.Probe; pr.Target == host {
		start := pr.FailingSince
		if start.IsZero() {
			start = pr.LastOK
		}
		if pr.ConsecutiveFails >= p.probeFailures() {
			note(start, fmt.Sprintf("%d write probes failed (%s)", pr.ConsecutiveFails, pr.LastErr))
		}
		if pr.Outstanding && p.ProbeSlow > 0 && o.now.Sub(pr.OutstandingSince) >= p.ProbeSlow {
			note(pr.OutstandingSince, fmt.Sprintf("write probe outstanding for %s", o.now.Sub(pr.OutstandingSince)))
		}
		if p.ProbeSlow > 0 && pr.LastLatency >= p.ProbeSlow && !pr.FailingSince.IsZero() {
			note(pr.FailingSince, fmt.Sprintf("write probe took %s", pr.LastLatency))
		}
	}
	if l := v.Local; l.Host == host && l.Reachable && l.State == topology.StatePrimary {
		if l.SlowWrites {
			note(l.LastWrite, "its mongod reports slow or blocked local writes")
		}
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
