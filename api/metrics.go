package api

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	adminDenied *prometheus.CounterVec
}

// newMetrics registers on reg only; a nil reg leaves the metrics unregistered.
func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rsguard_api_requests_total",
			Help: "HTTP requests by handler and status code.",
		}, []string{"handler", "code"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rsguard_api_request_duration_seconds",
			Help:    "HTTP request latency by handler.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1},
		}, []string{"handler"}),
		adminDenied: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rsguard_api_admin_denied_total",
			Help: "Admin requests refused, by reason (disabled, missing_token, bad_token).",
		}, []string{"reason"}),
	}
}
