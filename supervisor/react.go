package supervisor

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// Peers react at once (issue 8, deliverable 7): a view in which another sidecar reports its local
// mongod refused, or the primary lost, makes this sidecar look at that host now instead of at its
// next probe round. The look is this sidecar's own first-hand check, so corroboration still means
// what it meant (principle 2): one sidecar's report is a reason to look, never a vote.
//
//   - "refused" from the host's own sidecar: a TCP dial of the port (mongo.PortChecker.Reach), the
//     quickest first-hand test of "the process is gone". Only refused counts; a connect or a
//     timeout proves nothing and changes nothing.
//   - "primary lost" (the primary not reached by a peer): the regular hello, started now. Timeouts
//     still need a long silence (silence.go): probe.failures_before_unreachable unanswered
//     questions over probe.unreachable_after.

// reaction remembers, per host, the last evidence looked at, so that a report repeated in every
// push (views change every probe round) does not become a probe per push.
type reaction struct {
	mu   sync.Mutex
	last map[string]reactKey
}

type reactKey struct {
	evidence string // the sidecars reporting, and what
	at       time.Time
}

// evidence is the news one host is under, from the other sidecars' views.
type evidence struct {
	refusedBy []string // sidecars whose own mongod (this host) refuses connections
	lostBy    []string // sidecars that do not reach this host as the primary
}

// evidenceFromViews lists, per host other than none, what the fresh views of other sidecars say.
func evidenceFromViews(views map[string]topology.ViewWithAge, self string, maxAge time.Duration) map[string]*evidence {
	out := map[string]*evidence{}
	get := func(h string) *evidence {
		if out[h] == nil {
			out[h] = &evidence{}
		}
		return out[h]
	}
	for id, v := range views {
		if id == self || !v.Alive || maxAge > 0 && v.Age > maxAge {
			continue
		}
		if l := v.View.Local; l.Host != "" && !l.Reachable && l.Failure == topology.FailureRefused {
			e := get(l.Host)
			e.refusedBy = append(e.refusedBy, id)
		}
		if p := v.View.Primary; p.Host != "" && !p.Reachable {
			e := get(p.Host)
			e.lostBy = append(e.lostBy, id)
		}
	}
	for _, e := range out {
		slices.Sort(e.refusedBy)
		slices.Sort(e.lostBy)
	}
	return out
}

func (e *evidence) key() string {
	return "refused:" + strings.Join(e.refusedBy, ",") + "|lost:" + strings.Join(e.lostBy, ",")
}

// reactToViews looks at every host that other sidecars report refused or lost while this sidecar
// still reaches it. It never blocks: the looks run in their own goroutines.
func (s *Supervisor) reactToViews(ctx context.Context) {
	views := s.gossip.Views()
	s.mu.Lock()
	maxAge, interval := s.cfg.Probe.ViewMaxAge, s.cfg.Probe.Interval
	ev := evidenceFromViews(views, s.id, maxAge)
	type look struct {
		host  string
		reach bool // a port check; else a hello
	}
	var looks []look
	now := s.now()
	for host, e := range ev {
		if host == s.selfHost {
			// Someone else says our own mongod refuses: the local watch normally knew first.
			if s.local.reachable() && len(e.refusedBy) > 0 && s.react.fresh(host, e.key(), now, interval) {
				looks = append(looks, look{host, true})
			}
			continue
		}
		p := s.peers[host]
		if p == nil || !p.tried || !p.ok {
			continue // not one we check, or already lost: nothing to add
		}
		if !s.react.fresh(host, e.key(), now, interval) {
			continue
		}
		if len(e.refusedBy) > 0 {
			looks = append(looks, look{host, true})
		}
		if len(e.lostBy) > 0 && !p.inflight {
			p.inflight = true
			looks = append(looks, look{host, false})
		}
	}
	timeout := s.cfg.Probe.Timeout
	s.mu.Unlock()

	for _, l := range looks {
		s.inflight.Add(1)
		go func() {
			defer s.inflight.Done()
			switch {
			case l.host == s.selfHost:
				s.checkLocalPort(ctx)
			case l.reach:
				s.reachPeer(ctx, l.host)
			default:
				s.helloPeer(ctx, l.host, timeout)
			}
		}()
	}
}

// fresh reports whether key is news for host: other evidence than last time, or the same
// evidence after a whole probe interval (a report that persists is looked at once per round, as
// the regular probes do). It records the look.
func (r *reaction) fresh(host, key string, now time.Time, interval time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]reactKey{}
	}
	if k, ok := r.last[host]; ok && k.evidence == key && now.Sub(k.at) < interval {
		return false
	}
	r.last[host] = reactKey{evidence: key, at: now}
	return true
}

// reachPeer dials host's port once. Refused marks it unreachable at once, as a refused hello
// does (helloPeer); anything else leaves the peer state alone.
func (s *Supervisor) reachPeer(ctx context.Context, host string) {
	pc, timeout, ok := s.portChecker(ctx, host)
	if !ok {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	err := pc.Reach(rctx)
	cancel()
	if err == nil || ctx.Err() != nil || mongo.Classify(err) != topology.FailureRefused {
		return
	}
	s.mu.Lock()
	p := s.peers[host]
	if p == nil {
		s.mu.Unlock()
		return
	}
	changed := !p.tried || p.ok
	p.tried, p.ok, p.failure = true, false, topology.FailureRefused
	p.silent.fail(s.now())
	p.silent.declared = true
	s.mu.Unlock()
	if changed {
		s.logger.Info("peer mongod refuses connections (looked at once on a peer's report)", "host", host)
		s.publish()
	}
}

// viewsMoved reports whether the material part of the gossiped views changed since *sig, and
// updates it.
func (s *Supervisor) viewsMoved(sig *string) bool {
	s.mu.Lock()
	maxAge := s.cfg.Probe.ViewMaxAge
	s.mu.Unlock()
	next := viewsSignature(s.gossip.Views(), maxAge)
	if next == *sig {
		return false
	}
	*sig = next
	return true
}
