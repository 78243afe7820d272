package supervisor

import (
	"context"
	"time"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// Crash detection as fast as the evidence (issue 8, deliverable 7). The regular observation
// notices a dead local mongod at its next tick (probe.interval), and then only as fast as the
// driver can say "refused" (see mongo.PortChecker). A data sidecar therefore also holds an idle
// TCP connection to its mongod: when the process dies the kernel closes it (EOF or reset) and the
// sidecar looks at the port at once. Only "connection refused" from that look is a verdict, the
// same first-hand proof the regular rule accepts at once (applyObservationLocked); an idle
// connection that ends while the port still accepts (a network blip, a listener restart, a
// server that drops silent connections) changes nothing, and nor does a look that times out.

// localWatchMinLife is how long an idle connection must have lived for the next one to be opened
// at once: a mongod that accepts and then closes every connection (maxIncomingConnections
// reached, say) must not turn the watch into a busy loop.
const localWatchMinLife = time.Second

// watchLocal runs in data mode until ctx is done. It does nothing when the local Node cannot
// look at its port (test fakes without mongo.PortChecker).
func (s *Supervisor) watchLocal(ctx context.Context) {
	for ctx.Err() == nil {
		pc, timeout, ok := s.portChecker(ctx, s.selfHost)
		if !ok {
			return
		}
		dctx, cancel := context.WithTimeout(ctx, timeout)
		conn, err := pc.HoldIdle(dctx)
		cancel()
		if err != nil {
			// Down or not up yet: the regular observation reports it. Try again later.
			s.logger.Debug("cannot hold an idle connection to the local mongod", "err", err)
			s.sleep(ctx, s.probeInterval())
			continue
		}
		opened := s.now()
		ended := make(chan error, 1)
		go func() { ended <- conn.Wait() }()
		select {
		case <-ctx.Done():
			_ = conn.Close()
			<-ended
			return
		case err = <-ended:
		}
		_ = conn.Close()
		s.logger.Info("idle connection to the local mongod ended: looking at its port", "err", err)
		s.checkLocalPort(ctx)
		if s.now().Sub(opened) < localWatchMinLife {
			s.sleep(ctx, s.probeInterval())
		}
	}
}

// localLooks are the delays between the looks at the local port after the idle connection ended.
// A killed process's sockets close one by one (in file-descriptor order): the idle connection's
// FIN can arrive while the listener still accepts into its dying queue, so a first look that
// connects proves nothing yet (seen in about half of the e2e kills). Looking again a few times
// over a few hundred milliseconds settles it; a live mongod costs a handful of accepted and closed
// connections.
var localLooks = []time.Duration{0, 20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond, 160 * time.Millisecond}

// checkLocalPort looks at the local mongod's port (localLooks): refused is applied as a failed
// observation (and so gossiped and decided on at once); anything else changes nothing.
func (s *Supervisor) checkLocalPort(ctx context.Context) {
	pc, timeout, ok := s.portChecker(ctx, s.selfHost)
	if !ok {
		return
	}
	var err error
	for _, d := range localLooks {
		s.sleep(ctx, d)
		rctx, cancel := context.WithTimeout(ctx, timeout)
		err = pc.Reach(rctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil && mongo.Classify(err) == topology.FailureRefused {
			break
		}
	}
	if err == nil || mongo.Classify(err) != topology.FailureRefused {
		return
	}
	s.mu.Lock()
	was := s.local.reachable()
	at := s.now()
	s.applyObservationLocked(mongo.Observation{}, err, at, at)
	now := s.local.reachable()
	s.mu.Unlock()
	if was && !now {
		s.logger.Warn("local mongod refuses connections", "mongod", s.selfHost, "err", err)
	}
	s.publish()
}

// portChecker returns host's Node as a mongo.PortChecker and the probe timeout to use with it.
func (s *Supervisor) portChecker(ctx context.Context, host string) (mongo.PortChecker, time.Duration, bool) {
	node, err := s.nodes.get(ctx, host)
	if err != nil {
		return nil, 0, false
	}
	pc, ok := node.(mongo.PortChecker)
	s.mu.Lock()
	timeout := s.cfg.Probe.Timeout
	s.mu.Unlock()
	return pc, timeout, ok
}

// sleep waits d or until ctx is done.
func (s *Supervisor) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
