package election

import (
	"fmt"
	"slices"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// A primary-elect does not accept writes until its catch-up ends (spec §5.4). mongod ends it when
// it has the newest optime heard from every member since it restarted its heartbeats, counting a
// member only once it answered or was marked down (topology_coordinator.cpp
// latestKnownOpTimeSinceHeartbeatRestart, member_data.cpp). A frozen or cut-off former primary
// never answers, so after a step-up over it the new primary waits until its heartbeats to it
// time out: up to heartbeatTimeoutSecs (10 s) after the last good one.
//
// When rsguard itself stepped the new primary up because the quorum lost the former primary, and
// every other member is reachable and no fresher than the new primary, that wait can only end
// one way: the former primary is marked down and the target is what the new primary already has.
// replSetAbortPrimaryCatchUp (spec §6.8) reaches the same end sooner. It must not fire when:
//   - the primary-elect came from MongoDB's own election or from a sick-primary step-up (the
//     former primary still answers heartbeats there, and catch-up may fetch from it);
//   - the former primary answers again (first-hand, a direct probe, or a heartbeat after the
//     step-up): catch-up then ends by itself, with its writes;
//   - any other member is ahead of the primary-elect, or its optime is unknown: catch-up has
//     something to fetch, and aborting would roll those writes back.

// catchingUp classifies a newest primary that is in catch-up or drain, as its own sidecar reports
// it first-hand.
func (o observed) catchingUp(c claim) (Analysis, bool) {
	own, ok := o.ownView(c.host)
	if !ok {
		return Analysis{}, false
	}
	l := own.Local
	if !l.Reachable || l.State != topology.StatePrimary || !l.CatchingUp || l.Term < c.term {
		return Analysis{}, false
	}
	since := l.TermSince
	if since.IsZero() {
		since = o.now
	}
	return Analysis{Kind: PrimaryCatchingUp, Primary: c.host, Term: l.Term, Since: since,
		Evidence: []string{fmt.Sprintf("%s: own mongod %s won term %d and is in catch-up or drain (not writable yet)", own.SidecarID, c.host, l.Term)}}, true
}

// lostPrimaryReasons are the failovers after which the former primary cannot answer heartbeats.
var lostPrimaryReasons = []Reason{ReasonPrimaryProcessDead, ReasonPrimaryProcessUnresponsive, ReasonPrimaryHostUnreachable}

// abortCatchUp is the rule for PrimaryCatchingUp (see the comment at the top of this file).
func abortCatchUp(snap topology.Snapshot, st State, p Policy, now time.Time, a Analysis) (Action, Reason) {
	none := Action{Kind: None}
	if !p.AbortCatchUp {
		return none, RefusedPolicyDisabled
	}
	f := st.LastFailover
	if f.To != a.Primary || !slices.Contains(lostPrimaryReasons, f.Reason) || now.Sub(f.At) > p.ElectionQuiet {
		return none, RefusedCatchUpNotOurs
	}
	o := observe(snap)
	if o.answers(f.Incident.Primary, f.At) {
		return none, RefusedFormerPrimaryAnswering
	}
	own, _ := o.ownView(a.Primary)
	mine := own.Local.OpTime
	for _, host := range o.memberHosts(own) {
		if host == a.Primary || host == f.Incident.Primary {
			continue
		}
		state, ot, known := o.progress(host, own)
		switch {
		case state == topology.StateArbiter:
			// Arbiters count for freshness, not for the target optime.
		case !known || ot.After(mine):
			return none, RefusedCatchUpSourceAhead
		}
	}
	return Action{Kind: AbortCatchUp, Host: a.Primary, Sidecar: own.SidecarID}, ReasonCatchUpWaitsOnLostPrimary
}

// answers reports whether host was seen answering after t: its own sidecar reaches it, a sidecar's
// direct probe did, or a mongod heard a heartbeat reply from it after t.
func (o observed) answers(host string, t time.Time) bool {
	if own, ok := o.ownView(host); ok && own.Local.Reachable {
		return true
	}
	for _, id := range o.ids {
		v := o.views[id]
		if v.Primary.Host == host && v.Primary.Reachable {
			return true
		}
		if peer, ok := v.Peer(host); ok && peer.Healthy && peer.LastHeartbeat.After(t) {
			return true
		}
	}
	return false
}

// memberHosts lists the replica set's members: the configured sidecars' mongods and whatever
// the primary-elect's mongod reports (members without a sidecar, such as an arbiter mongod).
func (o observed) memberHosts(primary topology.MemberView) []string {
	var hosts []string
	for _, m := range o.snap.Members {
		if m.Host != "" {
			hosts = append(hosts, m.Host)
		}
	}
	for _, peer := range primary.Peers {
		hosts = append(hosts, peer.Host)
	}
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

// progress is the best current knowledge of a member's state and optime: first-hand from its own
// sidecar, else the primary-elect's heartbeats, else any other mongod's healthy heartbeats.
func (o observed) progress(host string, primary topology.MemberView) (topology.MemberState, topology.OpTime, bool) {
	if own, ok := o.ownView(host); ok && own.Local.Reachable {
		return own.Local.State, own.Local.OpTime, true
	}
	if peer, ok := primary.Peer(host); ok && peer.Healthy {
		return peer.State, peer.OpTime, true
	}
	for _, id := range o.ids {
		if peer, ok := o.views[id].Peer(host); ok && peer.Healthy {
			return peer.State, peer.OpTime, true
		}
	}
	return topology.StateUnknown, topology.OpTime{}, false
}
