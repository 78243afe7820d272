package election

import (
	"fmt"
	"slices"
	"time"
)

// The mongods' own heartbeats are evidence too (principle 2). When every sidecar lost its path to
// the primary but the primary still answers the heartbeats of the other mongods, the trouble is
// the sidecars' network, not the primary: a failover would replace a primary that the set itself
// keeps (it still sees a majority of voters, spec §5.1, so it does not step down and nobody's
// election timer fires, spec §5.2).
//
// replSetGetStatus members[].lastHeartbeat is the date this mongod last got a heartbeat reply from
// the member, lastHeartbeatRecv the date it last received a heartbeat request from it (spec §3.3).
// Replies arrive every heartbeatIntervalMillis (2 s, spec §5.1), and lastHeartbeat is set only
// when one is processed (MemberData::setUpValues / setDownValues, member_data.cpp). health stays 1
// while a heartbeat to a hung member is retried, for up to heartbeatTimeoutSecs (10 s), so health
// alone would veto a frozen primary for 10 s: the veto takes only a contact within
// Policy.HeartbeatFresh of the snapshot, the newer of the last reply from the primary and the
// last request received from it (it heartbeats every member on its own 2 s cycle, so the newer
// of the two is usually well under 2 s old on a healthy link, and a frozen or dead primary stops
// both). The age counts the view's own age too: evidence relayed late is old evidence. A killed primary refuses the connection, so the retries
// (kMaxHeartbeatRetries = 2) fail at once and it is marked down (health 0); a frozen one stops
// answering and its lastHeartbeat stops advancing.
//
// The veto never applies to PrimaryProcessDead: a connection refused by the mongod on its own host
// is first-hand proof that the process is gone (failover-notes "Crash of the primary's mongod"),
// and the other mongods only notice at their next heartbeat, up to heartbeatIntervalMillis later;
// vetoing until then would add that delay to every crash failover. It covers
// PrimaryHostUnreachable and PrimaryProcessUnresponsive, where nothing first-hand says the
// process is gone.

// heartbeatVeto reports whether a majority of the set's voting mongods still get fresh heartbeat
// replies from host. The primary counts its own vote: the replies prove it runs, and with the
// reporters it is the majority MongoDB keeps it primary for.
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
		// HeartbeatHealthy, not Healthy: the sidecar's own failed probe overrides Healthy, and the
		// point here is what the mongod itself hears.
		contact := peer.LastHeartbeat
		if peer.LastHeartbeatRecv.After(contact) {
			contact = peer.LastHeartbeatRecv
		}
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
