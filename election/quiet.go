package election

import (
	"time"

	"github.com/rsguard/rsguard/topology"
)

// QuietUntil is when the election-quiet period of the newest term the visible mongods report
// ends (their TermSince plus p.ElectionQuiet), and that term; zero when no term start is known.
// The status report shows it so that "rsguard waits" comes with how long.
func QuietUntil(snap topology.Snapshot, p Policy) (time.Time, int64) {
	o := observe(snap)
	var since time.Time
	var term int64
	for _, id := range o.ids {
		l := o.views[id].Local
		if l.Host == "" || !l.Reachable || l.TermSince.IsZero() {
			continue
		}
		if l.TermSince.After(since) {
			since, term = l.TermSince, l.Term
		}
	}
	if since.IsZero() {
		return time.Time{}, 0
	}
	return since.Add(p.ElectionQuiet), term
}
