package supervisor

import (
	"context"
	"fmt"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// localState is what the sidecar knows of its own mongod.
type localState struct {
	// answered: the mongod replied at least once (readiness needs it in data mode).
	answered bool
	// usable: view holds a mongod of our set that may be gossiped. False before the first
	// answer, and while the mongod belongs to another set or to none (problem says why): then the
	// view is withheld rather than mislead the others.
	usable  bool
	problem string
	obs     mongo.Observation // last successful observation
	view    topology.LocalView
	silent  silence // the current run of probes without an answer
	err     error   // last failure
	term    int64
	since   time.Time // when this sidecar saw term change, for TermSince
}

// reachable reports whether the local mongod answers and belongs to our set.
func (l *localState) reachable() bool { return l.usable && l.view.Reachable }

// observeLocal reads hello, replSetGetStatus and replSetGetConfig from the local mongod within
// probe.timeout and folds the result into the local view.
func (s *Supervisor) observeLocal(ctx context.Context) {
	s.mu.Lock()
	timeout := s.cfg.Probe.Timeout
	s.mu.Unlock()
	started := s.now()
	node, err := s.nodes.get(ctx, s.selfHost)
	var obs mongo.Observation
	if err == nil {
		octx, cancel := context.WithTimeout(ctx, timeout)
		obs, err = mongo.Observe(octx, node)
		cancel()
	}
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	s.applyObservationLocked(obs, err, started, s.now())
	if s.local.problem == "" {
		s.startWatchLocked(ctx, s.selfHost, &s.local.silent)
	}
	s.mu.Unlock()
	s.publish()
}

// applyObservationLocked implements the unreachability rule: "refused" is first-hand proof that
// nothing listens on the port, so the mongod is unreachable at once; a timeout or any other
// transport failure may be a blip and needs a long silence: probe.failures_before_unreachable in
// a row over probe.unreachable_after (silence.go; failover-notes "Crash of the primary's mongod"),
// which the silence watch usually finds first (silencewatch.go). started is when the observation
// began, now when it ended.
func (s *Supervisor) applyObservationLocked(obs mongo.Observation, err error, started, now time.Time) {
	l := &s.local
	switch {
	case err == nil:
		l.answered, l.err = true, nil
		s.endSilenceLocked(s.selfHost, &l.silent, now)
		l.problem = setProblem(obs, s.cfg.ReplicaSet, s.selfHost)
		l.usable = l.problem == ""
		if !l.usable {
			return
		}
		v := obs.LocalView()
		if l.term != 0 && v.Term != l.term {
			l.since = now
		}
		l.term = v.Term
		if v.TermSince.IsZero() && !l.since.IsZero() {
			v.TermSince = l.since
		}
		if until := election.FrozenUntil(s.state.Memory, s.selfHost); until.After(now) {
			v.FrozenUntil = until
		}
		l.obs, l.view = obs, v
	case mongo.ErrorCode(err) != 0:
		// The mongod answered, with an error: it is up but of no use as a member of our set.
		l.answered, l.err = true, err
		s.endSilenceLocked(s.selfHost, &l.silent, now)
		l.problem = commandProblem(s.selfHost, err)
		l.usable = false
	default:
		l.silent.fail(started)
		l.err = err
		if l.problem != "" {
			// Its last answer said it is not a usable member of our set (wrong set name, never
			// initiated, removed...): going silent does not make it one.
			return
		}
		refused := mongo.Classify(err) == topology.FailureRefused
		if !refused && !l.silent.long(now, s.cfg.Probe.FailuresBeforeUnreachable, s.cfg.Probe.UnreachableAfter) {
			return // a blip so far
		}
		if refused {
			l.silent.declared = true // first-hand, not a silence: no histogram
		} else {
			s.declareSilentLocked(s.selfHost, &l.silent, now)
		}
		s.markUnreachableLocked(s.selfHost, err)
	}
}

// setProblem says why an answering mongod cannot serve as this sidecar's member of set, or "".
func setProblem(obs mongo.Observation, set, host string) string {
	h, st := obs.Hello, obs.Status
	name := h.SetName
	if name == "" {
		name = st.Set
	}
	switch {
	case st.MyState == topology.StateStartup || (h.IsReplicaSet && name == ""):
		return fmt.Sprintf("local mongod %s has no replica set config (never initiated): waiting for replSetInitiate", host)
	case name == "":
		return fmt.Sprintf("local mongod %s reports no replica set name: is it running with --replSet %s?", host, set)
	case name != set:
		return fmt.Sprintf("local mongod %s belongs to replica set %q but replica_set is %q: check the config", host, name, set)
	case st.MyState == topology.StateRemoved:
		return fmt.Sprintf("local mongod %s is REMOVED from replica set %q", host, set)
	case obs.Self() != host:
		return fmt.Sprintf("local mongod calls itself %s but members[].mongod of this sidecar is %s: use the replica set's host name", obs.Self(), host)
	}
	return ""
}

func commandProblem(host string, err error) string {
	switch mongo.ErrorCode(err) {
	case mongo.CodeNoReplicationEnabled:
		return fmt.Sprintf("local mongod %s is not a replica-set member (not running with --replSet): %v", host, err)
	case mongo.CodeUnauthorized, mongo.CodeAuthenticationFailed:
		return fmt.Sprintf("local mongod %s refuses rsguard's credentials or roles (it needs clusterMonitor and clusterManager, hostManager for a fence, readWrite on the probe database, and listCollections on every database for the rollback archive): %v", host, err)
	}
	return fmt.Sprintf("local mongod %s answered with an error: %v", host, err)
}
