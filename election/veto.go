package election

import (
	"fmt"
	"slices"
	"time"
)

// The mongods' own heartbeats are evidence too (principle 2). When every sidecar lost its path to
// the primary but the primary still exchanges heartbeats with the other mongods, the trouble is
// the sidecars' network, not the primary: a failover would replace a primary that the set itself
// keeps (it still sees a majority of voters, spec §5.1, so it does not step down and nobody's
// election timer fires, spec §5.2).
//
// replSetGetStatus members[] (spec §3.3): health is 1 while the member answers; lastHeartbeat is
// when this mongod last processed a heartbeat response from it, lastHeartbeatRecv when it last
// received a heartbeat request from it. Heartbeats go every heartbeatIntervalMillis (2 s) and a
// failed one is retried until heartbeatTimeoutSecs (10 s) before the member is marked down
// (spec §5.1; kMaxHeartbeatRetries = 2, so a refused connection marks it down at the next
// heartbeat). mongod also stamps lastHeartbeat when it marks a member down
// (MemberData::setDownValues, member_data.cpp), so the stamp alone proves nothing: the veto needs
// health 1. And health alone would vouch for a frozen primary for up to 10 s, so the veto also
// needs a contact within Policy.HeartbeatFresh (3 s: one interval and a margin) of the snapshot:
// the newer of lastHeartbeat and lastHeartbeatRecv (the primary heartbeats every member on its
// own 2 s cycle, so on a healthy link the newer of the two is usually well under 2 s old; a frozen
// or dead primary stops both). The age includes the view's own age: evidence relayed late is old.
//
// The veto never applies to PrimaryProcessDead: a connection refused by the mongod on its own host
// is first-hand proof that the process is gone (failover-notes "Crash of the primary's mongod"),
// and the other mongods notice only at their next heartbeat, up to 2 s later; vetoing until then
// would add that delay to every crash failover. It covers PrimaryHostUnreachable and
// PrimaryProcessUnresponsive, where nothing first-hand says the process is gone.

// heartbeatVeto reports whether a majority of the set's voting members still exchange fresh
// heartbeats with host, as the data sidecars' own mongods report it. The primary counts its own
// vote: the heartbeats prove it runs, and with the reporters it is the majority MongoDB keeps it
// primary for. Voters are every known member with votes (Candidates), arbiters included.
func (o observed) heartbeatVeto(host string, p Policy) ([]string, bool) {
	if p.HeartbeatFresh <= 0 {
		return nil, false
	}
	voters := 0
	for _, c := range Candidates(o.snap, host, false) {
		if c.Votes > 0 {
			voters++
		}
	}
	var reporters, ev []string
	for _, id := range o.ids {
		v := o.views[id]
		l := v.Local
		if l.Host == "" || l.Host == host || !l.Reachable || l.Votes <= 0 || slices.Contains(reporters, l.Host) {
			continue
		}
		peer, ok := v.Peer(host)
		contact := peer.LastHeartbeat
		if peer.LastHeartbeatRecv.After(contact) {
			contact = peer.LastHeartbeatRecv
		}
		// HeartbeatHealthy, not Healthy: the sidecar's own failed probe overrides Healthy, and the
		// point here is what the mongod itself hears.
		if !ok || !peer.HeartbeatHealthy || contact.IsZero() {
			continue
		}
		// Both times are on the reporting sidecar's host clock; the view's age is on ours.
		age := v.ObservedAt.Sub(contact) + o.snap.Views[id].Age
		if age > p.HeartbeatFresh {
			continue
		}
		reporters = append(reporters, l.Host)
		ev = append(ev, fmt.Sprintf("%s: its mongod %s exchanged heartbeats with %s %s ago (health 1)", id, l.Host, host, age.Round(time.Millisecond)))
	}
	need := voters/2 + 1
	if len(reporters)+1 < need {
		return nil, false
	}
	ev = append(ev, fmt.Sprintf("%d of %d voting mongods, %s included, still exchange heartbeats with it: the sidecars' path is cut, not the primary",
		len(reporters)+1, voters, host))
	return ev, true
}
