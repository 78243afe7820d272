package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options wire the handler to the runtime. Every function must be safe for concurrent use; a nil
// function answers 501 Not Implemented on its endpoints.
type Options struct {
	// Status returns the GET /v1/status body (this sidecar's own report), encoded as JSON.
	Status func() any
	// Ready reports readiness and, when not ready, the reasons. Nil means always ready.
	Ready func() (bool, []string)
	// Warnings lists what is wrong without making the sidecar unready (e.g. unauthenticated
	// gossip); /readyz appends them to its body, ready or not. Nil means none.
	Warnings func() []string
	// Cluster returns the GET /v1/cluster body.
	Cluster func() Cluster
	// Act runs or plans an action (see doc.go). A refusal or bad input is an *Error.
	Act func(ctx context.Context, action, member string, req ActionRequest, dryRun bool) (ActionResult, error)
	// Request looks an action up by id.
	Request func(id string) (ActionResult, bool)
	// History returns the history, oldest first, filtered by q.
	History func(q HistoryQuery) []Event
	// Subscribe delivers every new history event until cancel is called.
	Subscribe func() (events <-chan Event, cancel func())
	// Audit returns this sidecar's newest limit audit lines (all when limit <= 0), oldest first.
	Audit func(limit int) ([]json.RawMessage, error)
	// Local is the local mongod's role, for /primary and /secondary.
	Local func() LocalRole
	// UI is the dashboard, mounted at /ui/; nil serves none.
	UI http.Handler
	// AdminToken is the bearer token actions require; empty disables them. ReadToken, when set,
	// is required (or the admin token) on every GET under /v1. Pass the config's
	// Secret.Reveal() here and nowhere else.
	AdminToken string
	ReadToken  string
	// Gatherer is what /metrics exposes; nil exposes an empty registry.
	Gatherer prometheus.Gatherer
	// DefaultWait is how long an action waits for its executor without ?wait (60s when zero).
	DefaultWait time.Duration
}

// HistoryQuery filters GET /v1/history and the replay of GET /v1/events.
type HistoryQuery struct {
	Since time.Time
	Limit int    // the newest Limit events; 0 for all
	Kind  string // only this kind; "" for all
	After string // only events after the one with this id (the SSE Last-Event-ID)
}

// LocalRole is what the local mongod is, for the load-balancer checks.
type LocalRole struct {
	Known    bool    // the sidecar has a fresh observation
	State    string  // PRIMARY, SECONDARY, ...
	Writable bool    // a writable primary (hello isWritablePrimary)
	LagSecs  float64 // behind the primary, for a secondary
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
	if opts.DefaultWait <= 0 {
		opts.DefaultWait = time.Minute
	}
	h := &handler{logger: logger, opts: opts, metrics: newMetrics(reg), mux: http.NewServeMux()}
	h.route("GET /metrics", "metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	h.route("GET /healthz", "healthz", http.HandlerFunc(h.healthz))
	h.route("GET /readyz", "readyz", http.HandlerFunc(h.readyz))
	h.route("GET /primary", "primary", http.HandlerFunc(h.primary))
	h.route("GET /secondary", "secondary", http.HandlerFunc(h.secondary))
	h.route("GET /v1/status", "status", h.read(h.status))
	h.route("GET /v1/cluster", "cluster", h.read(h.cluster))
	h.route("GET /v1/history", "history", h.read(h.history))
	h.route("GET /v1/events", "events", h.read(h.events))
	h.route("GET /v1/audit", "audit", h.read(h.audit))
	h.route("GET /v1/requests/{id}", "request", h.read(h.request))
	for _, a := range []string{ActionSwitchover, ActionFailover, ActionPause, ActionResume, ActionAcknowledge} {
		h.route("POST /v1/"+a, a, h.admin(h.action(a)))
	}
	h.route("POST /v1/resync/{member}", ActionResync, h.admin(h.action(ActionResync)))
	h.route("/v1/", "unknown", http.HandlerFunc(h.unknown))
	if opts.UI != nil {
		h.route("GET /ui/", "ui", opts.UI)
		h.route("GET /ui", "ui", http.RedirectHandler("/ui/", http.StatusMovedPermanently))
		h.route("GET /{$}", "ui", http.RedirectHandler("/ui/", http.StatusFound))
	}
	return h
}

// unknown answers what no route takes under /v1: 405 naming the allowed methods when the path
// exists, else 404, as problem documents.
func (h *handler) unknown(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "/v1/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		problem(w, r, Problem{Status: http.StatusMethodNotAllowed, Detail: r.URL.Path + " takes " + strings.Join(allow, ", ") + ", not " + r.Method})
		return
	}
	problem(w, r, Problem{Status: http.StatusNotFound, Detail: r.Method + " " + r.URL.Path + " is not an endpoint of the API (see api/doc.go)"})
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
