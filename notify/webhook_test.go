package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a webhook receiver answering with the statuses of script in turn (the last one
// repeats) and recording every request.
type recorder struct {
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	times    []time.Time
	script   []int
	retryAft string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	i := len(r.bodies)
	r.bodies = append(r.bodies, b)
	r.headers = append(r.headers, req.Header.Clone())
	r.times = append(r.times, time.Now())
	status := r.script[min(i, len(r.script)-1)]
	r.mu.Unlock()
	if r.retryAft != "" && i == 0 {
		w.Header().Set("Retry-After", r.retryAft)
	}
	w.WriteHeader(status)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func TestWebhookRetries5xxThenDelivers(t *testing.T) {
	rec := &recorder{script: []int{500, 502, 200}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	w := fast("ops", srv.URL)
	w.Headers = map[string]string{"Authorization": "Bearer tok"}
	n, _, _ := newTest(t, Options{Webhooks: []Webhook{w}})
	n.Notify(Event{ID: "ev-1", Kind: KindFailover, Summary: "node-b is primary", From: "h1:27017", To: "h2:27017", Term: 7})
	eventually(t, "delivery", func() bool { return deliveries(n, "ops", resultOK) == 1 })
	if got := rec.count(); got != 3 {
		t.Fatalf("%d requests, want 3 (two 5xx retried)", got)
	}
	var ev Event
	if err := json.Unmarshal(rec.bodies[2], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID != "ev-1" || ev.Kind != KindFailover || ev.Set != "rs0" || ev.Sidecar != "node-a" || ev.To != "h2:27017" || ev.Term != 7 || ev.Time.IsZero() {
		t.Errorf("delivered %+v", ev)
	}
	if h := rec.headers[2]; h.Get("Authorization") != "Bearer tok" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
}

func TestWebhook4xxIsNotRetried(t *testing.T) {
	rec := &recorder{script: []int{400, 200}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	n, _, _ := newTest(t, Options{Webhooks: []Webhook{fast("ops", srv.URL)}})
	n.Notify(Event{Kind: KindPause, Summary: "paused"})
	eventually(t, "failed delivery", func() bool { return deliveries(n, "ops", resultFailed) == 1 })
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rec.count(); got != 1 {
		t.Errorf("%d requests, want 1: a 400 is not retried", got)
	}
}

func TestWebhookGivesUpAfterMaxAttempts(t *testing.T) {
	rec := &recorder{script: []int{503}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	w := fast("ops", srv.URL)
	w.MaxAttempts = 3
	n, _, _ := newTest(t, Options{Webhooks: []Webhook{w}})
	n.Notify(Event{Kind: KindIncident, Summary: "primary unreachable"})
	eventually(t, "failed delivery", func() bool { return deliveries(n, "ops", resultFailed) == 1 })
	if got := rec.count(); got != 3 {
		t.Errorf("%d requests, want max_attempts 3", got)
	}
}

// failingTransport fails the first fails requests with a network error, then forwards.
type failingTransport struct {
	fails atomic.Int32
	calls atomic.Int32
}

func (f *failingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.calls.Add(1)
	if f.fails.Add(-1) >= 0 {
		return nil, errors.New("connection reset by peer")
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestWebhookRetriesNetworkErrors(t *testing.T) {
	rec := &recorder{script: []int{204}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	tr := &failingTransport{}
	tr.fails.Store(2)
	n, _, _ := newTest(t, Options{Webhooks: []Webhook{fast("ops", srv.URL)}, Client: &http.Client{Transport: tr}})
	n.Notify(Event{Kind: KindResume, Summary: "resumed"})
	eventually(t, "delivery", func() bool { return deliveries(n, "ops", resultOK) == 1 })
	if tr.calls.Load() != 3 || rec.count() != 1 {
		t.Errorf("%d attempts, %d received; want 3 and 1", tr.calls.Load(), rec.count())
	}
}

func TestWebhookBackoffDoublesUpToMax(t *testing.T) {
	w := Webhook{BackoffInitial: 100 * time.Millisecond, BackoffMax: time.Second}
	for _, tc := range []struct {
		jitter float64
		want   []time.Duration
	}{
		{0, []time.Duration{50, 100, 200, 400, 500, 500}},
		{0.5, []time.Duration{75, 150, 300, 600, 750, 750}},
	} {
		n := &Notifier{opts: Options{Jitter: func() float64 { return tc.jitter }}}
		for i, want := range tc.want {
			if got := n.backoff(&w, i+1); got != want*time.Millisecond {
				t.Errorf("jitter %v attempt %d: backoff %v, want %v", tc.jitter, i+1, got, want*time.Millisecond)
			}
		}
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	rec := &recorder{script: []int{429, 200}, retryAft: "1"}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	w := fast("ops", srv.URL)
	w.BackoffMax = 10 * time.Second
	n, _, _ := newTest(t, Options{Webhooks: []Webhook{w}})
	n.Notify(Event{Kind: KindFailover, Summary: "x"})
	eventually(t, "delivery", func() bool { return deliveries(n, "ops", resultOK) == 1 })
	if gap := rec.times[1].Sub(rec.times[0]); gap < 900*time.Millisecond {
		t.Errorf("retried after %v; Retry-After asked for 1s (backoff alone would be ~1ms)", gap)
	}
}

func TestRetryAfterIsCapped(t *testing.T) {
	rec := &recorder{script: []int{503, 200}, retryAft: "3600"}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	n, _, _ := newTest(t, Options{Webhooks: []Webhook{fast("ops", srv.URL)}}) // backoff_max 5ms
	n.Notify(Event{Kind: KindFailover, Summary: "x"})
	eventually(t, "delivery despite Retry-After: 3600", func() bool { return deliveries(n, "ops", resultOK) == 1 })
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"Thu, 03 Dec 2026 06:00:30 GMT": 30 * time.Second,
		"Thu, 03 Dec 2026 05:00:00 GMT": 0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", v, got, want)
		}
	}
}

// A full queue drops its oldest event and counts it; the newest still arrive.
func TestWebhookQueueOverflowDropsOldest(t *testing.T) {
	release := make(chan struct{})
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev Event
		_ = json.NewDecoder(r.Body).Decode(&ev)
		got <- ev.ID
		if ev.ID == "e1" {
			<-release
		}
	}))
	defer srv.Close()
	w := fast("ops", srv.URL)
	w.Queue = 2
	n, _, _ := newTest(t, Options{Webhooks: []Webhook{w}})
	n.Notify(Event{ID: "e1", Kind: KindIncident})
	if id := <-got; id != "e1" {
		t.Fatalf("first delivery %s", id)
	}
	for _, id := range []string{"e2", "e3", "e4"} {
		n.Notify(Event{ID: id, Kind: KindIncident}) // must not block while e1 is stuck
	}
	if d := deliveries(n, "ops", resultDropped); d != 1 {
		t.Errorf("dropped %v, want 1", d)
	}
	close(release)
	var ids []string
	for range 2 {
		ids = append(ids, <-got)
	}
	if strings.Join(ids, ",") != "e3,e4" {
		t.Errorf("delivered after e1: %v, want e3,e4 (e2, the oldest queued, dropped)", ids)
	}
	eventually(t, "three deliveries", func() bool { return deliveries(n, "ops", resultOK) == 3 })
}

func TestWebhookSlackShapeAndEventFilter(t *testing.T) {
	rec := &recorder{script: []int{200}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	w := fast("chat", srv.URL)
	w.Format = FormatSlack
	w.Events = []Kind{KindFailover}
	n, _, _ := newTest(t, Options{Webhooks: []Webhook{w}})
	n.Notify(Event{Kind: KindPause, Summary: "not for chat"})
	n.Notify(Event{Kind: KindFailover, Summary: "node-b <h2> is primary", Reason: "primary_dead", From: "h1:27017", To: "h2:27017", Term: 9})
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec.count() != 1 {
		t.Fatalf("%d requests, want 1 (pause filtered out)", rec.count())
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(rec.bodies[0], &msg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[rs0] failover", "&lt;h2&gt;", "h1:27017 → h2:27017", "term: 9", "reason: primary_dead"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("text %q lacks %q", msg.Text, want)
		}
	}
	if len(msg.Blocks) != 2 || msg.Blocks[0].Type != "section" || msg.Blocks[0].Text == nil || msg.Blocks[0].Text.Type != "mrkdwn" || msg.Blocks[1].Type != "context" {
		t.Errorf("blocks: %s", rec.bodies[0])
	}
}

// Close gives up at its deadline: the stuck request is cut, queued events are abandoned.
func TestCloseGivesUpAtDeadline(t *testing.T) {
	stuck := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(stuck)
	w := fast("ops", srv.URL)
	w.Timeout = time.Hour
	n, _, _ := newTest(t, Options{Webhooks: []Webhook{w}})
	n.Notify(Event{ID: "a", Kind: KindIncident})
	n.Notify(Event{ID: "b", Kind: KindIncident})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := n.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v, want a deadline error", err)
	}
	if d := deliveries(n, "ops", resultAbandoned); d != 2 {
		t.Errorf("abandoned %v, want 2", d)
	}
	n.Notify(Event{Kind: KindIncident}) // after Close: ignored, does not panic or block
}

// Neither header values nor the URL (a Slack URL is a credential) reach the log.
func TestWebhookSecretsNotLogged(t *testing.T) {
	rec := &recorder{script: []int{500}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	w := fast("ops", srv.URL+"/services/T000/B000/XXXXSECRETPATH")
	w.MaxAttempts = 2
	w.Headers = map[string]string{"X-Token": "HEADERSECRET"}
	tr := &failingTransport{}
	tr.fails.Store(1)
	n, _, logs := newTest(t, Options{Webhooks: []Webhook{w}, Client: &http.Client{Transport: tr}})
	n.Notify(Event{Kind: KindIncident})
	eventually(t, "failed delivery", func() bool { return deliveries(n, "ops", resultFailed) == 1 })
	out := logs.String()
	if !strings.Contains(out, "webhook=ops") {
		t.Fatalf("no webhook log lines:\n%s", out)
	}
	for _, secret := range []string{"HEADERSECRET", "XXXXSECRETPATH"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %s:\n%s", secret, out)
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	ok := Webhook{Name: "a", URL: "https://example.com/hook"}
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"bad url", Options{Webhooks: []Webhook{{Name: "a", URL: "ftp://x"}}}, "webhooks[0]: url"},
		{"no name", Options{Webhooks: []Webhook{{URL: "https://x"}}}, "name is required"},
		{"duplicate", Options{Webhooks: []Webhook{ok, ok}}, `webhooks[1]: name "a" is used twice`},
		{"format", Options{Webhooks: []Webhook{{Name: "a", URL: "https://x", Format: "xml"}}}, `unknown format "xml"`},
		{"kind", Options{Webhooks: []Webhook{{Name: "a", URL: "https://x", Events: []Kind{"failvoer"}}}}, `unknown event kind "failvoer"`},
		{"empty command", Options{Hooks: Hooks{PostFailover: &Hook{}}}, "hooks.post_failover: command is required"},
		{"on_timeout on post", Options{Hooks: Hooks{PostFailover: &Hook{Command: []string{"true"}, OnTimeout: TimeoutAllow}}}, "pre_failover only"},
		{"bad on_timeout", Options{Hooks: Hooks{PreFailover: &Hook{Command: []string{"true"}, OnTimeout: "maybe"}}}, `unknown on_timeout "maybe"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(nil, nil, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}
