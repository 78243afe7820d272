package notify

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Results of a webhook delivery (rsguard_notify_webhook_deliveries_total).
const (
	resultOK        = "ok"        // a 2xx
	resultFailed    = "failed"    // a 4xx other than 429, or every attempt failed
	resultDropped   = "dropped"   // the queue was full and this, the oldest, event made room
	resultAbandoned = "abandoned" // Close gave up before it was delivered
)

// Results of a hook run (rsguard_notify_hook_runs_total).
const (
	hookOK      = "ok"      // exit 0
	hookFailed  = "failed"  // non-zero exit
	hookTimeout = "timeout" // killed at the timeout
	hookError   = "error"   // could not start
	hookDropped = "dropped" // the hook's queue was full, or Close gave up before it ran
)

type metrics struct {
	deliveries      *prometheus.CounterVec
	queueLength     *prometheus.GaugeVec
	webhookDuration *prometheus.HistogramVec
	hookRuns        *prometheus.CounterVec
	hookDuration    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	buckets := []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	return &metrics{
		deliveries: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rsguard_notify_webhook_deliveries_total",
			Help: "Webhook events by final result: ok, failed (4xx or out of attempts), dropped (queue full), abandoned (shutdown).",
		}, []string{"webhook", "result"}),
		queueLength: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rsguard_notify_webhook_queue_length",
			Help: "Events waiting for delivery, the one being delivered excluded.",
		}, []string{"webhook"}),
		webhookDuration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rsguard_notify_webhook_attempt_duration_seconds",
			Help:    "Duration of single webhook attempts, whatever their outcome.",
			Buckets: buckets,
		}, []string{"webhook"}),
		hookRuns: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rsguard_notify_hook_runs_total",
			Help: "Hook script runs by result: ok, failed (non-zero exit), timeout, error (could not start), dropped.",
		}, []string{"hook", "result"}),
		hookDuration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rsguard_notify_hook_duration_seconds",
			Help:    "Duration of hook script runs.",
			Buckets: buckets,
		}, []string{"hook"}),
	}
}
