package election

import (
	"fmt"

	"github.com/rsguard/rsguard/topology"
)

// lostPrimary decides whether the primary is gone, following orchestrator's rule: "dead" only when
// it is unreachable AND the others lost it too; a single observer's failure is never enough
// (principle 2).
func (o observed) lostPrimary(c claim, p Policy) Analysis {
	a := Analysis{Primary: c.host, Term: c.term, Since: o.now}
	var lost, reached []string
	for _, id := range o.ids {
		v := o.views[id]
		switch v.Reaches(c.host) {
		case topology.ReachNo:
			lost = append(lost, id)
			if v.Local.Host == c.host {
				a.Evidence = append(a.Evidence, fmt.Sprintf("%s: own mongod %s %s", id, c.host, failureText(v.Local.Failure)))
			} else {
				a.Evidence = append(a.Evidence, fmt.Sprintf("%s: cannot reach %s", id, c.host))
			}
		case topology.ReachYes:
			reached = append(reached, id)
		}
	}
	if len(lost) > 0 {
		a.Witnesses, a.Needed = lost, o.snap.Majority()
	}
	if len(lost) == 0 {
		a.Kind = Healthy
		a.Evidence = []string{fmt.Sprintf("primary %s in term %d reached by %v", c.host, c.term, reached)}
		return a
	}
	if len(reached) > 0 {
		a.Evidence = append(a.Evidence, fmt.Sprintf("but %v still reach %s", reached, c.host))
	}
	own, ownVisible := o.ownView(c.host)
	switch {
	case len(reached) == 0 && len(lost) >= o.snap.Majority():
		// Everyone who can tell agrees. Still never race MongoDB's own election: once the
		// followers' timers fire (spec §5.2) a newer term or a candidate appears.
		if busy, ok := o.electionBusy(c.term, p); ok {
			busy.Primary, busy.Term = c.host, c.term
			busy.Witnesses, busy.Needed = a.Witnesses, a.Needed
			busy.Evidence = append(a.Evidence, busy.Evidence...)
			return busy
		}
		switch {
		case !ownVisible:
			a.Kind = PrimaryHostUnreachable
			a.Evidence = append(a.Evidence, fmt.Sprintf("the sidecar beside %s is not visible either", c.host))
		case own.Local.Failure == topology.FailureRefused:
			// Connection refused on the same host is first-hand: the process is gone
			// (failover-notes "Crash of the primary's mongod").
			a.Kind = PrimaryProcessDead
		default:
			a.Kind = PrimaryProcessUnresponsive
		}
		// A refused connection on its own host proves the process gone, whatever the last
		// heartbeats said; otherwise the mongods' fresh heartbeats veto (election/veto.go).
		if a.Kind != PrimaryProcessDead {
			if ev, ok := o.heartbeatVeto(c.host, p); ok {
				a.Kind = PrimaryUnreachableSidecarsOnly
				a.Evidence = append(a.Evidence, ev...)
			}
		}
	case len(lost) == 1 && lost[0] == o.snap.Self:
		a.Kind = PrimaryUnreachableFromMeOnly
	default:
		a.Kind = PrimaryUnreachableUncorroborated
		a.Evidence = append(a.Evidence, fmt.Sprintf("%d of %d sidecars lost it and %d still reach it; a verdict needs %d and no contradiction",
			len(lost), len(o.snap.Members), len(reached), o.snap.Majority()))
	}
	return a
}

// ownView returns the visible view of the sidecar beside host.
func (o observed) ownView(host string) (topology.MemberView, bool) {
	sc, ok := o.snap.SidecarOf(host)
	if !ok {
		return topology.MemberView{}, false
	}
	v, ok := o.views[sc.ID]
	return v, ok
}
