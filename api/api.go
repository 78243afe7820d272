package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options wire the handler to the runtime. Every function must be safe for concurrent use.
type Options struct {
	// Status returns the GET /v1/status body; it is encoded as JSON. Required.
	Status func() any
	// Ready reports readiness and, when not ready, the reasons. Nil means always ready.
	Ready func() (bool, []string)
	// Acknowledge lifts the anti-flap block on behalf of actor ("operator:<name>"). Nil answers
	// 501 Not Implemented.
	Acknowledge func(actor string) error
	// AdminToken is the bearer token admin actions require; empty disables them. Pass the
	// config's Secret.Reveal() here and nowhere else.
	AdminToken string
	// Gatherer is what /metrics exposes; nil exposes an empty registry.
	Gatherer prometheus.Gatherer
	// Warnings lists what is wrong without making the sidecar unready (e.g. unauthenticated
	// gossip); /readyz appends them to its body, ready or not. Nil means none.
	Warnings func() []string
}

type handler struct {
	logger  *slog.Logger
	opts    Options
	metrics *metrics
	mux     *http.ServeMux
}

// New returns the API handler. A nil logger discards; a nil registry leaves the API's own metrics
// unregistered.
func New(logger *slog.Logger, reg prometheus.Registerer, opts Options) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Gatherer == nil {
		opts.Gatherer = prometheus.NewRegistry()
	}
	h := &handler{logger: logger, opts: opts, metrics: newMetrics(reg), mux: http.NewServeMux()}
	h.route("GET /metrics", "metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	h.route("GET /healthz", "healthz", http.HandlerFunc(h.healthz))
	h.route("GET /readyz", "readyz", http.HandlerFunc(h.readyz))
	h.route("GET /v1/status", "status", http.HandlerFunc(h.status))
	h.route("POST /v1/acknowledge", "acknowledge", h.admin(h.acknowledge))
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// route registers next under pattern, counting requests by handler name and status code.
func (h *handler) route(pattern, name string, next http.Handler) {
	h.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		h.metrics.requests.WithLabelValues(name, fmt.Sprint(rec.code)).Inc()
		h.metrics.duration.WithLabelValues(name).Observe(time.Since(start).Seconds())
	}))
}

func (h *handler) healthz(w http.ResponseWriter, _ *http.Request) {
	text(w, http.StatusOK, "ok\n")
}

func (h *handler) readyz(w http.ResponseWriter, _ *http.Request) {
	if h.opts.Ready == nil {
		text(w, http.StatusOK, "ready\n")
		return
	}
	ok, reasons := h.opts.Ready()
	if ok {
		text(w, http.StatusOK, "ready\n"+h.warnings())
		return
	}
	var b strings.Builder
	b.WriteString("not ready:\n")
	for _, r := range reasons {
		b.WriteString("- " + r + "\n")
	}
	b.WriteString(h.warnings())
	text(w, http.StatusServiceUnavailable, b.String())
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	if h.opts.Status == nil {
		text(w, http.StatusNotImplemented, "status is not available\n")
		return
	}
	indent := r.URL.Query().Get("pretty") != ""
	writeJSON(w, http.StatusOK, h.opts.Status(), indent)
}

func text(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

func writeJSON(w http.ResponseWriter, code int, v any, indent bool) {
	var b []byte
	var err error
	if indent {
		b, err = json.MarshalIndent(v, "", "  ")
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		text(w, http.StatusInternalServerError, "encoding the response: "+err.Error()+"\n")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// statusRecorder remembers the status code for the metrics.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// warnings renders Options.Warnings as "warning: ..." lines.
func (h *handler) warnings() string {
	if h.opts.Warnings == nil {
		return ""
	}
	var b strings.Builder
	for _, w := range h.opts.Warnings() {
		b.WriteString("warning: " + w + "\n")
	}
	return b.String()
}
