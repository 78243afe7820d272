package supervisor

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// peerState is this sidecar's own reachability check of one other mongod: a hello with a short
// deadline every probe interval. It is what lets a quorum tell "dead" from "unreachable from me
// only" (principle 2): the local mongod's heartbeats lag by up to heartbeatTimeoutSecs (spec
// §5.1), and an arbiter sidecar has no mongod at all.
type peerState struct {
	tried    bool // a result is in
	ok       bool // reachable, by the same refused/timeout rule as the local mongod
	answered bool // it answered at least once (a reply, even an error reply)
	inflight bool
	silent   silence // the current run of probes without an answer
	failure  topology.FailureKind
	hello    mongo.Hello // last successful reply
	at       time.Time   // when hello was received
	state    topology.MemberState
	optime   topology.OpTime
}

// peerHostsLocked lists the mongods to check: every configured data member and every member the
// known hello replies of the newest replica-set config name (arbiters and members without a
// sidecar included), except our own. Only the newest config counts: a member removed by a
// reconfig (or the stale last hello of a dead one) must not linger as a voter in the ranking.
func (s *Supervisor) peerHostsLocked() []string {
	var hosts []string
	for _, m := range s.cfg.Members {
		if m.Mongod != "" {
			hosts = append(hosts, m.Mongod)
		}
	}
	var hellos []mongo.Hello
	if s.local.usable {
		hellos = append(hellos, s.local.obs.Hello)
	}
	for _, p := range s.peers {
		if p.hello.SetName == s.cfg.ReplicaSet {
			hellos = append(hellos, p.hello)
		}
	}
	var newest int64
	for _, h := range hellos {
		newest = max(newest, h.SetVersion)
	}
	for _, h := range hellos {
		if h.SetVersion == newest {
			hosts = append(hosts, h.Hosts...)
			hosts = append(hosts, h.Passives...)
			hosts = append(hosts, h.Arbiters...)
		}
	}
	slices.Sort(hosts)
	hosts = slices.Compact(hosts)
	return slices.DeleteFunc(hosts, func(h string) bool { return h == "" || h == s.selfHost })
}

// peerRound starts one hello per peer not still busy with the previous one.
func (s *Supervisor) peerRound(ctx context.Context) {
	s.mu.Lock()
	timeout := s.cfg.Probe.Timeout
	var hosts []string
	for _, h := range s.peerHostsLocked() {
		p := s.peers[h]
		if p == nil {
			p = &peerState{}
			s.peers[h] = p
		}
		if !p.inflight {
			p.inflight = true
			hosts = append(hosts, h)
		}
	}
	s.mu.Unlock()
	var round sync.WaitGroup
	for _, h := range hosts {
		s.inflight.Add(1)
		round.Add(1)
		go func() {
			defer s.inflight.Done()
			defer round.Done()
			s.helloPeer(ctx, h, timeout)
		}()
	}
	// One publish for the round (optimes and states move all the time); a change of
	// reachability was already published by helloPeer. A call that ignores its deadline does
	// not hold the loop up. Nor does the round itself: the next one starts probe.interval after
	// this one started, not after a timing-out peer's probe.timeout on top (which stretched the
	// rounds to a frozen host to interval + timeout and delayed its second failure by as much).
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		done := make(chan struct{})
		go func() { round.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(timeout + 100*time.Millisecond):
		case <-ctx.Done():
			return
		}
		s.publish()
	}()
}

func (s *Supervisor) helloPeer(ctx context.Context, host string, timeout time.Duration) {
	node, err := s.nodes.get(ctx, host)
	if err != nil {
		// A dial error is our configuration's fault: no result, rather than a vote for
		// "unreachable".
		s.mu.Lock()
		s.peers[host].inflight = false
		s.mu.Unlock()
		s.logger.Debug("cannot dial peer mongod", "host", host, "err", err)
		return
	}
	started := s.now()
	hctx, cancel := context.WithTimeout(ctx, timeout)
	h, err := node.Hello(hctx)
	cancel()
	s.mu.Lock()
	p := s.peers[host]
	p.inflight = false
	if ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	was := *p
	p.tried = true
	switch {
	case err == nil:
		p.ok, p.failure, p.answered = true, topology.FailureNone, true
		s.endSilenceLocked(host, &p.silent, s.now())
		p.hello, p.at = h, s.now()
		if st := h.State(); st != topology.StateUnknown {
			p.state = st
		}
		if !h.LastWrite.OpTime.IsNull() {
			p.optime = h.LastWrite.OpTime
		}
	case mongo.ErrorCode(err) != 0:
		// An error reply is still an answer: the process is there.
		p.ok, p.failure, p.answered = true, topology.FailureNone, true
		s.endSilenceLocked(host, &p.silent, s.now())
	case !p.answered && (mongo.Classify(err) == topology.FailureOther || mongo.HandshakeFailed(err)):
		// Never reached, and neither a closed port nor silence: the handshake failed (TLS
		// required, or our login refused), typically an arbiter sidecar without a credentials
		// section on an auth or TLS set. No opinion, rather than a false "unreachable" that
		// would count towards a quorum for "lost" and aim its write probe at nothing.
		p.tried, p.failure = was.tried, topology.FailureOther
		if !was.tried && p.silent.fails == 0 {
			s.logger.Warn("peer mongod refuses our connection (TLS or credentials?): no reachability opinion on it until it answers",
				"host", host, "err", err)
		}
		p.silent.fail(started)
	default:
		p.silent.fail(started)
		p.failure = mongo.Classify(err)
		switch now := s.now(); {
		case p.failure == topology.FailureRefused:
			p.ok, p.silent.declared = false, true
		case p.silent.long(now, s.cfg.Probe.FailuresBeforeUnreachable, s.cfg.Probe.UnreachableAfter):
			s.declareSilentLocked(host, &p.silent, now)
			p.ok = false
		default:
			s.startWatchLocked(ctx, host, &p.silent)
		}
	}
	changed := !was.tried || was.ok != p.ok || was.state != p.state
	s.mu.Unlock()
	if changed {
		s.publish()
	}
}

// peersLocked merges the local mongod's replSetGetStatus (state, optime, heartbeats) with this
// sidecar's own checks (reachability): PeerSeen.Healthy says what THIS sidecar reaches.
func (s *Supervisor) peersLocked() []topology.PeerSeen {
	byHost := map[string]topology.PeerSeen{}
	if s.local.reachable() {
		for _, ps := range s.local.obs.Peers() {
			byHost[ps.Host] = ps
		}
	}
	current := s.peerHostsLocked()
	for host, p := range s.peers {
		if host == s.selfHost || !p.tried || !slices.Contains(current, host) {
			continue
		}
		ps, ok := byHost[host]
		if !ok {
			ps = topology.PeerSeen{Host: host, State: p.state, OpTime: p.optime}
			if !p.ok && p.state == topology.StateStartup {
				ps.State = topology.StateDown // never reached: say so rather than STARTUP
			}
		}
		ps.Healthy = p.ok
		if p.ok {
			// First-hand and fresher than heartbeats, where hello can tell (it cannot tell
			// RECOVERING, STARTUP2 or ROLLBACK apart; replSetGetStatus can).
			switch hs := p.hello.State(); {
			case hs == topology.StatePrimary || hs == topology.StateSecondary || hs == topology.StateArbiter:
				ps.State = hs
			case (ps.State == topology.StateDown || ps.State == topology.StateUnknown) && p.state != topology.StateStartup:
				ps.State = p.state
			}
		}
		if ps.OpTime.IsNull() && !p.optime.IsNull() {
			ps.OpTime = p.optime
		}
		byHost[host] = ps
	}
	out := make([]topology.PeerSeen, 0, len(byHost))
	for _, ps := range byHost {
		if ps.Host != s.selfHost {
			out = append(out, ps)
		}
	}
	slices.SortFunc(out, func(a, b topology.PeerSeen) int {
		switch {
		case a.Host < b.Host:
			return -1
		case a.Host > b.Host:
			return 1
		}
		return 0
	})
	return out
}

// writableLocked reports whether host last answered as a writable primary.
func (s *Supervisor) writableLocked(host string) bool {
	if host != "" && host == s.selfHost {
		return s.local.reachable() && s.local.obs.Hello.IsWritablePrimary
	}
	p := s.peers[host]
	return p != nil && p.ok && p.hello.IsWritablePrimary
}
