package heartbeat

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Receipt paths, the "path" label of views_received_total.
const (
	pathDirect   = "direct"   // a push from the view's own sidecar
	pathRelayed  = "relayed"  // a third sidecar forwarded it (views.go, relay rule)
	pathPushPull = "pushpull" // memberlist's join or anti-entropy state exchange
)

type metrics struct {
	members          *prometheus.GaugeVec
	viewsReceived    *prometheus.CounterVec
	viewsSent        *prometheus.CounterVec
	viewsInvalid     prometheus.Counter
	sendErrors       prometheus.Counter
	viewAge          *prometheus.GaugeVec
	seedJoinFailures prometheus.Counter
	eventsDropped    prometheus.Counter
	settled          prometheus.Gauge
}

// newMetrics registers on reg only; a nil reg leaves the metrics unregistered.
func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		members: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rsguard_heartbeat_members",
			Help: "Gossip members known to this sidecar (itself included) by memberlist state; alive includes suspect.",
		}, []string{"state"}),
		viewsReceived: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rsguard_heartbeat_views_received_total",
			Help: "Member views received, by path (direct, relayed, pushpull), newer or not.",
		}, []string{"path"}),
		viewsSent: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rsguard_heartbeat_views_sent_total",
			Help: "Member views sent: own pushes and relays of other sidecars' views.",
		}, []string{"kind"}),
		viewsInvalid: f.NewCounter(prometheus.CounterOpts{
			Name: "rsguard_heartbeat_views_invalid_total",
			Help: "Gossip messages dropped: undecodable, not matching their origin, or unauthenticated (reasons in views_rejected_total).",
		}),
		sendErrors: f.NewCounter(prometheus.CounterOpts{
			Name: "rsguard_heartbeat_send_errors_total",
			Help: "View pushes the transport refused to send.",
		}),
		viewAge: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rsguard_heartbeat_view_age_seconds",
			Help: "Age of the freshest view held from each peer sidecar, updated every push interval.",
		}, []string{"peer"}),
		seedJoinFailures: f.NewCounter(prometheus.CounterOpts{
			Name: "rsguard_heartbeat_seed_join_failures_total",
			Help: "Addresses (seeds or dead members) a join attempt could not reach.",
		}),
		eventsDropped: f.NewCounter(prometheus.CounterOpts{
			Name: "rsguard_heartbeat_events_dropped_total",
			Help: "Membership events dropped because the consumer of Events() was behind.",
		}),
		settled: f.NewGauge(prometheus.GaugeOpts{
			Name: "rsguard_heartbeat_settled",
			Help: "1 once the gossip settle period after start is over.",
		}),
	}
	for _, s := range []MemberStatus{StatusAlive, StatusDead, StatusLeft} {
		m.members.WithLabelValues(s.String())
	}
	for _, p := range []string{pathDirect, pathRelayed, pathPushPull} {
		m.viewsReceived.WithLabelValues(p)
	}
	m.viewsSent.WithLabelValues("own")
	m.viewsSent.WithLabelValues("relay")
	return m
}
