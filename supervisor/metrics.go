package supervisor

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

type metrics struct {
	memberState      *prometheus.GaugeVec
	memberLag        *prometheus.GaugeVec
	probeLatency     prometheus.Histogram
	probeFailures    *prometheus.CounterVec
	decisions        *prometheus.CounterVec
	refusals         *prometheus.CounterVec
	actions          *prometheus.CounterVec
	failoverDuration prometheus.Histogram
	ready            prometheus.Gauge
	analysis         *prometheus.GaugeVec
	auditErrors      prometheus.Counter
	// issue 8: the w:1 j:true probe and the replication-lag class.
	journalProbeLatency  prometheus.Histogram
	journalProbeFailures *prometheus.CounterVec
	replicationLagging   prometheus.Gauge
	maxSecondaryLag      prometheus.Gauge
	failoverBlocked      *prometheus.GaugeVec
	// issue 11: how long mongods went silent (silence.go), blips and losses alike.
	silence *prometheus.HistogramVec
}

// newMetrics registers on reg only; a nil reg leaves the metrics unregistered.
func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		failoverBlocked: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rsguard_supervisor_failover_blocked",
			Help: "1 while automatic failover is blocked for the reason (operator_paused, anti_flap, no_quorum, failover_disabled, dry_run, not_ready), else 0.",
		}, []string{"reason"}),
		memberState: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rsguard_supervisor_member_state",
			Help: "Replica-set member state as mongod numbers it (1 PRIMARY, 2 SECONDARY, 8 DOWN, ...), from the freshest visible view.",
		}, []string{"member"}),
		memberLag: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rsguard_supervisor_member_lag_seconds",
			Help: "How far the member's applied optime trails the primary's (or the freshest known), in seconds.",
		}, []string{"member"}),
		probeLatency: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "rsguard_supervisor_write_probe_latency_seconds",
			Help:    "Round trip of successful w:majority write probes to the primary.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		probeFailures: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rsguard_supervisor_write_probe_failures_total",
			Help: "Failed write probes by outcome (timeout, refused, not_primary, wtimeout, shutdown, error).",
		}, []string{"kind"}),
		decisions: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rsguard_supervisor_decisions_total",
			Help: "Decisions by proposed action and reason code, one per decide tick, acted on or not.",
		}, []string{"action", "reason"}),
		refusals: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rsguard_supervisor_refusals_total",
			Help: "Decisions that refused to act, by reason code.",
		}, []string{"reason"}),
		actions: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rsguard_supervisor_actions_total",
			Help: "Actions this sidecar executed, by kind and result (ok, failed).",
		}, []string{"action", "result"}),
		failoverDuration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "rsguard_supervisor_failover_duration_seconds",
			Help:    "From the first actionable analysis to a new writable primary observed.",
			Buckets: []float64{.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 120},
		}),
		ready: f.NewGauge(prometheus.GaugeOpts{
			Name: "rsguard_supervisor_ready",
			Help: "1 when the sidecar is ready to take part in decisions (see /readyz for reasons).",
		}),
		analysis: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rsguard_supervisor_analysis",
			Help: "1 for the current analysis kind, 0 for the others.",
		}, []string{"kind"}),
		auditErrors: f.NewCounter(prometheus.CounterOpts{
			Name: "rsguard_supervisor_audit_write_errors_total",
			Help: "Audit log lines that could not be written.",
		}),
	}
	m.journalProbeLatency = f.NewHistogram(prometheus.HistogramOpts{
		Name:    "rsguard_supervisor_journal_probe_latency_seconds",
		Help:    "Round trip of successful w:1 j:true write probes to the primary (its own disk and write path).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	m.journalProbeFailures = f.NewCounterVec(prometheus.CounterOpts{
		Name: "rsguard_supervisor_journal_probe_failures_total",
		Help: "Failed w:1 j:true write probes by outcome (timeout, refused, not_primary, shutdown, error).",
	}, []string{"kind"})
	m.replicationLagging = f.NewGauge(prometheus.GaugeOpts{
		Name: "rsguard_supervisor_replication_lagging",
		Help: "1 while the analysis is replication_lagging: w:\"majority\" writes stall behind lagging secondaries, the primary itself is fine (never acted on; alert on it).",
	})
	m.maxSecondaryLag = f.NewGauge(prometheus.GaugeOpts{
		Name: "rsguard_supervisor_max_secondary_lag_seconds",
		Help: "The largest lag of a SECONDARY behind the primary's applied optime (replSetGetStatus optimes), in seconds.",
	})
	m.silence = f.NewHistogramVec(prometheus.HistogramOpts{
		Name: "rsguard_supervisor_mongod_silence_seconds",
		Help: "Silences of a mongod this sidecar asks (its own and the members it checks): outcome answered is a blip ridden out " +
			"(its whole length), unreachable is one that lasted probe.unreachable_after (its length then). Blips close to " +
			"probe.unreachable_after mean the network comes near to a false failover.",
		Buckets: []float64{.25, .5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10},
	}, []string{"mongod", "outcome"})
	for _, k := range election.Kinds() {
		m.analysis.WithLabelValues(k.String()).Set(0)
	}
	return m
}

func (m *metrics) setAnalysis(k election.Kind) {
	for _, kk := range election.Kinds() {
		v := 0.0
		if kk == k {
			v = 1
		}
		m.analysis.WithLabelValues(kk.String()).Set(v)
	}
}

// setReplication sets the replication-lag gauges from one decision's members table.
func (m *metrics) setReplication(k election.Kind, rows []MemberRow) {
	lagging := 0.0
	if k == election.ReplicationLagging {
		lagging = 1
	}
	m.replicationLagging.Set(lagging)
	worst := 0.0
	for _, r := range rows {
		if r.stateNum == topology.StateSecondary {
			worst = max(worst, r.LagSeconds)
		}
	}
	m.maxSecondaryLag.Set(worst)
}
