package supervisor

import (
	"context"
	"time"

	"github.com/rsguard/rsguard/mongo"
)

// topologyAwait is how long one awaitable hello may wait: the drivers' default
// heartbeatFrequencyMS, which their streaming monitors use as maxAwaitTimeMS.
const topologyAwait = 10 * time.Second

// watchTopology (data mode) keeps an awaitable hello outstanding on the local mongod
// (mongo.TopologyWaiter) and observes it at once whenever its topologyVersion moves. After a
// replSetStepUp the primary-elect's catch-up and drain, and its becoming writable, then reach the
// gossip within milliseconds instead of at the next probe.interval: the catch-up rule
// (election/catchup.go) needs the primary-elect's own sidecar to report it first-hand. It does
// nothing when the local Node cannot wait (test fakes) or mongod reports no topologyVersion.
func (s *Supervisor) watchTopology(ctx context.Context) {
	var tv mongo.TopologyVersion
	for ctx.Err() == nil {
		node, err := s.nodes.get(ctx, s.selfHost)
		if err != nil {
			return
		}
		tw, ok := node.(mongo.TopologyWaiter)
		if !ok {
			return
		}
		s.mu.Lock()
		timeout := s.cfg.Probe.Timeout
		s.mu.Unlock()
		if tv.ProcessID == "" {
			hctx, cancel := context.WithTimeout(ctx, timeout)
			h, err := node.Hello(hctx)
			cancel()
			if err != nil || h.TopologyVersion.ProcessID == "" {
				// Down (the observation and the local watch report it) or too old to wait on.
				s.sleep(ctx, s.probeInterval())
				continue
			}
			tv = h.TopologyVersion
		}
		start := s.now()
		actx, cancel := context.WithTimeout(ctx, topologyAwait+timeout)
		h, err := tw.AwaitHello(actx, tv, topologyAwait)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			tv = mongo.TopologyVersion{}
			s.sleep(ctx, s.probeInterval())
		case h.TopologyVersion != tv:
			s.logger.Debug("local mongod topology changed", "from", tv, "to", h.TopologyVersion)
			tv = h.TopologyVersion
			s.observeLocal(ctx)
		case s.now().Sub(start) < topologyAwait/2:
			// Answered early without a change: a server that does not wait must not make this
			// a busy loop.
			s.sleep(ctx, s.probeInterval())
		}
	}
}
