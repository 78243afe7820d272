package supervisor

import (
	"context"
	"fmt"
	"time"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// probeState is the write probe against the current primary. Each probe runs in its own goroutine
// so that a hung primary never blocks observation: while one is outstanding no other is sent, and
// the outstanding time itself is the evidence (topology.WriteProbe.Outstanding).
type probeState struct {
	wp       topology.WriteProbe
	inflight bool
	gen      uint64 // bumped on a target change; a late result for an old target is dropped
	noAuth   bool   // the primary refused the probe's credentials: logged once
}

// probeTick starts a write probe of the current primary unless one is outstanding, and marks an
// outstanding one as failing once it is slower than probe.sick_write_latency.
func (s *Supervisor) probeTick(ctx context.Context) {
	views := s.gossip.Views()
	now := s.now()
	s.mu.Lock()
	target := s.primaryLocked(views).Host
	pr := &s.probe
	if target != pr.wp.Target {
		pr.gen++
		pr.wp, pr.inflight = topology.WriteProbe{Target: target}, false
	}
	slow := s.cfg.Probe.SickWriteLatency
	if target == "" || pr.inflight {
		w := &pr.wp
		changed := pr.inflight && w.FailingSince.IsZero() && now.Sub(w.OutstandingSince) >= slow
		if changed {
			w.FailingSince = w.OutstandingSince
		}
		s.mu.Unlock()
		if changed {
			s.publish()
		}
		return
	}
	pr.inflight = true
	pr.wp.Outstanding, pr.wp.OutstandingSince = true, now
	gen, timeout := pr.gen, s.cfg.Probe.WriteProbeTimeout
	s.mu.Unlock()
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		s.writeProbe(ctx, target, gen, timeout, slow, now)
	}()
}

func (s *Supervisor) writeProbe(ctx context.Context, target string, gen uint64, timeout, slow time.Duration, started time.Time) {
	node, dialErr := s.nodes.get(ctx, target)
	var lat time.Duration
	var err error
	if dialErr == nil {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		lat, err = node.WriteProbe(pctx, s.id)
		cancel()
	}
	if ctx.Err() != nil {
		return
	}
	now := s.now()
	s.mu.Lock()
	pr := &s.probe
	if gen != pr.gen {
		s.mu.Unlock()
		return
	}
	pr.inflight = false
	w := &pr.wp
	w.Outstanding, w.OutstandingSince = false, time.Time{}
	kind := mongo.ClassifyProbe(err)
	logAuth := false
	switch {
	case dialErr != nil:
		// Our configuration, not the primary, is at fault: never a witness.
		w.LastErr = "dial: " + dialErr.Error()
	case err == nil:
		w.LastLatency, w.LastOK, w.ConsecutiveFails, w.LastErr = lat, now, 0, ""
		if lat < slow {
			w.FailingSince = time.Time{}
		} else if w.FailingSince.IsZero() {
			w.FailingSince = started
		}
		s.metrics.probeLatency.Observe(lat.Seconds())
	case mongo.HasCode(err, mongo.CodeUnauthorized, mongo.CodeAuthenticationFailed):
		// Our credentials, not the primary, are at fault: never a witness of sickness.
		w.LastErr = "unauthorized: " + err.Error()
		logAuth, pr.noAuth = !pr.noAuth, true
	case kind == mongo.ProbeNotPrimary:
		// The target stepped down; the next observation names the new primary.
		w.LastErr = string(kind) + ": " + err.Error()
	default:
		w.ConsecutiveFails++
		w.LastLatency = lat
		w.LastErr = fmt.Sprintf("%s: %v", kind, err)
		if w.FailingSince.IsZero() {
			w.FailingSince = started
		}
		s.metrics.probeFailures.WithLabelValues(string(kind)).Inc()
	}
	s.mu.Unlock()
	if logAuth {
		s.logger.Warn("write probe refused our credentials: this sidecar cannot witness a sick primary",
			"primary", target, "err", err)
	}
	s.publish()
}
