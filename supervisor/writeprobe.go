package supervisor

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// probeState is one write probe against the current primary. Each probe runs in its own goroutine
// so that a hung primary never blocks observation: while one is outstanding no other is sent, and
// the outstanding time itself is the evidence (topology.WriteProbe.Outstanding).
type probeState struct {
	wp       topology.WriteProbe
	inflight bool
	gen      uint64 // bumped on a target change; a late result for an old target is dropped
	noAuth   bool   // the primary refused the probe's credentials: logged once
}

// probeKind is what tells the two probes apart: the w:"majority" one (MemberView.Probe), which
// stalls when the secondaries lag, and the w:1 j:true one (MemberView.JournalProbe), which
// stalls only on the primary's own write path.
type probeKind struct {
	name     string
	state    func(s *Supervisor) *probeState
	run      func(n mongo.Node, ctx context.Context, id string) (time.Duration, error)
	latency  func(m *metrics) prometheus.Observer
	failures func(m *metrics) *prometheus.CounterVec
}

var (
	majorityProbe = probeKind{name: "write probe",
		state:    func(s *Supervisor) *probeState { return &s.probe },
		run:      mongo.Node.WriteProbe,
		latency:  func(m *metrics) prometheus.Observer { return m.probeLatency },
		failures: func(m *metrics) *prometheus.CounterVec { return m.probeFailures }}
	journalProbe = probeKind{name: "w:1 j:true probe",
		state:    func(s *Supervisor) *probeState { return &s.jprobe },
		run:      mongo.Node.JournalProbe,
		latency:  func(m *metrics) prometheus.Observer { return m.journalProbeLatency },
		failures: func(m *metrics) *prometheus.CounterVec { return m.journalProbeFailures }}
)

// probeTick starts both write probes of the current primary.
func (s *Supervisor) probeTick(ctx context.Context) {
	views := s.gossip.Views()
	s.probeStart(ctx, majorityProbe, views)
	s.probeStart(ctx, journalProbe, views)
}

// probeStart starts one probe of the current primary unless one is outstanding, and marks an
// outstanding one as failing once it is slower than probe.sick_write_latency.
func (s *Supervisor) probeStart(ctx context.Context, k probeKind, views map[string]topology.ViewWithAge) {
	now := s.now()
	s.mu.Lock()
	target := s.primaryLocked(views).Host
	pr := k.state(s)
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
		s.writeProbe(ctx, k, target, gen, timeout, slow, now)
	}()
}

func (s *Supervisor) writeProbe(ctx context.Context, k probeKind, target string, gen uint64, timeout, slow time.Duration, started time.Time) {
	node, dialErr := s.nodes.get(ctx, target)
	var lat time.Duration
	var err error
	if dialErr == nil {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		lat, err = k.run(node, pctx, s.id)
		cancel()
	}
	if ctx.Err() != nil {
		return
	}
	now := s.now()
	s.mu.Lock()
	pr := k.state(s)
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
		k.latency(s.metrics).Observe(lat.Seconds())
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
		k.failures(s.metrics).WithLabelValues(string(kind)).Inc()
	}
	s.mu.Unlock()
	if logAuth {
		s.logger.Warn(k.name+" refused our credentials: this sidecar cannot witness a sick primary",
			"primary", target, "err", err)
	}
	s.publish()
}
