package supervisor

import (
	"slices"
	"testing"

	"github.com/rsguard/rsguard/mongo"
)

// A member removed by a reconfig is named only by hellos of the older config (here the removed
// member's own last reply): it is no longer checked nor reported as a peer, so the ranking does
// not count it as a voter.
func TestRemovedMemberDoesNotLinger(t *testing.T) {
	cfg := parseConfig(t, "")
	const removed = "127.0.0.9:27017"
	old := mongo.Hello{SetName: "rs0", SetVersion: 1, Hosts: []string{h1, h2, h3}, Arbiters: []string{removed}}
	cur := mongo.Hello{SetName: "rs0", SetVersion: 2, Hosts: []string{h1, h2, h3}}
	s := &Supervisor{id: "a", cfg: cfg, selfHost: h1, peers: map[string]*peerState{
		h2:      {tried: true, ok: true, answered: true, hello: cur},
		removed: {tried: true, ok: false, hello: old},
	}}
	if hosts := s.peerHostsLocked(); slices.Contains(hosts, removed) || !slices.Contains(hosts, h3) {
		t.Errorf("peer hosts %v: the removed member is still checked, or h3 is not", hosts)
	}
	for _, ps := range s.peersLocked() {
		if ps.Host == removed {
			t.Errorf("the removed member is reported as a peer: %+v", ps)
		}
	}
	// Before the reconfig reached anyone, the arbiter is a member like any other.
	s.peers[h2].hello = old
	if hosts := s.peerHostsLocked(); !slices.Contains(hosts, removed) {
		t.Errorf("peer hosts %v lack the arbiter of the only known config", hosts)
	}
}
