package notify

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// newTest builds a Notifier on its own registry, closed at the end of the test.
func newTest(t *testing.T, opts Options) (*Notifier, *prometheus.Registry, *syncBuffer) {
	t.Helper()
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.Set == "" {
		opts.Set = "rs0"
	}
	if opts.Sidecar == "" {
		opts.Sidecar = "node-a"
	}
	n, err := New(logger, reg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.Close(ctx)
	})
	return n, reg, logs
}

// fast is a webhook that retries quickly.
func fast(name, url string) Webhook {
	return Webhook{Name: name, URL: url, Timeout: 2 * time.Second, MaxAttempts: 4,
		BackoffInitial: time.Millisecond, BackoffMax: 5 * time.Millisecond}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func deliveries(n *Notifier, webhook, result string) float64 {
	return testutil.ToFloat64(n.metrics.deliveries.WithLabelValues(webhook, result))
}

func hookRuns(n *Notifier, hook, result string) float64 {
	return testutil.ToFloat64(n.metrics.hookRuns.WithLabelValues(hook, result))
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
