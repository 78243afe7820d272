package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// wants reports whether the webhook delivers events of kind k.
func (w *Webhook) wants(k Kind) bool { return len(w.Events) == 0 || slices.Contains(w.Events, k) }

// deliver sends ev to w until it succeeds, fails for good, or ctx ends; it returns the result
// label. Network errors, 5xx and 429 are retried with backoff; other 4xx are not, as the same
// request would fail the same way. The URL and the headers are never logged: Slack-style URLs
// and tokens are credentials.
func (n *Notifier) deliver(ctx context.Context, w *Webhook, ev Event) string {
	payload, err := body(w.Format, ev)
	if err != nil {
		n.logger.Error("webhook: cannot encode event", "webhook", w.Name, "event", ev.ID, "err", err)
		return resultFailed
	}
	log := n.logger.With("webhook", w.Name, "event", ev.ID, "kind", ev.Kind)
	for attempt := 1; ; attempt++ {
		status, retryAfter, err := n.attempt(ctx, w, payload)
		switch {
		case err == nil && status >= 200 && status < 300:
			log.Debug("webhook delivered", "status", status, "attempt", attempt)
			return resultOK
		case ctx.Err() != nil:
			log.Warn("webhook abandoned at shutdown", "attempt", attempt)
			return resultAbandoned
		case err == nil && !retryable(status):
			log.Warn("webhook refused the event; not retrying", "status", status, "attempt", attempt)
			return resultFailed
		case attempt >= w.MaxAttempts:
			log.Warn("webhook failed; giving up", "status", status, "err", err, "attempts", attempt)
			return resultFailed
		}
		wait := n.backoff(w, attempt)
		if retryAfter > 0 {
			wait = min(retryAfter, w.BackoffMax)
		}
		log.Info("webhook attempt failed; retrying", "status", status, "err", err, "attempt", attempt, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			log.Warn("webhook abandoned at shutdown", "attempt", attempt)
			return resultAbandoned
		}
	}
}

// retryable: the receiver may accept the same request later (5xx, 429 Too Many Requests,
// 408 Request Timeout).
func retryable(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// attempt makes one POST; it returns the status, the Retry-After wait if any, or the error.
func (n *Notifier) attempt(ctx context.Context, w *Webhook, payload []byte) (int, time.Duration, error) {
	start := time.Now()
	defer func() { n.metrics.webhookDuration.WithLabelValues(w.Name).Observe(time.Since(start).Seconds()) }()
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(payload))
	if err != nil {
		return 0, 0, errors.New("cannot build the request (check the url)")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "rsguard-notify")
	for k, v := range w.Headers {
		req.Header.Set(k, v)
	}
	resp, err := n.opts.Client.Do(req)
	if err != nil {
		return 0, 0, withoutURL(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	_ = resp.Body.Close()
	var after time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		after = retryAfter(resp.Header.Get("Retry-After"), n.opts.Now())
	}
	return resp.StatusCode, after, nil
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// backoff is the wait after the attempt-th failed attempt: BackoffInitial doubled per
// attempt up to BackoffMax, jittered into [d/2, d) so that sidecars retrying the same
// receiver spread out.
func (n *Notifier) backoff(w *Webhook, attempt int) time.Duration {
	d := w.BackoffInitial
	for i := 1; i < attempt && d < w.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, w.BackoffMax)
	return d/2 + time.Duration(n.opts.Jitter()*float64(d/2))
}

// withoutURL strips the URL from a client error: it may carry a token (Slack webhook URLs do).
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
