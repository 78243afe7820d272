package apiclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rsguard/rsguard/api"
)

// maxEventLine bounds one line of the stream (an event carries at most one action result).
const maxEventLine = 1 << 20

// stopError ends Events with its error: fn refused an event, or an event cannot be decoded
// (reconnecting would only read it again).
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }

// Events follows GET /v1/events: the history after afterID ("" for all of it), then live
// events, calling fn for each in order. A stream that drops is reopened with a doubling backoff
// (RetryMin to RetryMax, or the server's retry: hint) with Last-Event-ID set to the last event
// delivered, until ctx ends. The first connection is not retried: an unreachable sidecar or a
// refused token is returned at once. Events returns fn's error, a *ProblemError for an
// answer outside 2xx (except 5xx after the first connection, which are retried), or ctx's error.
func (c *Client) Events(ctx context.Context, afterID string, fn func(api.Event) error) error {
	last := afterID
	delay := c.retry[0]
	for attempt := 0; ; attempt++ {
		connected, hint, err := c.stream(ctx, &last, fn)
		var stop stopError
		switch {
		case errors.As(err, &stop):
			return stop.err
		case ctx.Err() != nil:
			return ctx.Err()
		case attempt == 0 && !connected:
			return err
		}
		if pe := AsProblem(err); pe != nil && pe.StatusCode < 500 {
			return err // a token revoked or an endpoint gone: retrying will not help
		}
		if connected {
			delay = c.retry[0]
		}
		if hint > 0 {
			delay = hint
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, c.retry[1])
	}
}

// stream opens the stream once and reads it until it ends. connected says whether the server
// answered 2xx; hint is the server's last retry: field.
func (c *Client) stream(ctx context.Context, last *string, fn func(api.Event) error) (connected bool, hint time.Duration, err error) {
	u := c.endpoint("/v1/events", nil)
	req, err := c.newRequest(ctx, http.MethodGet, u, nil, "text/event-stream")
	if err != nil {
		return false, 0, err
	}
	if *last != "" {
		req.Header.Set("Last-Event-ID", *last)
	}
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := c.http.Do(req)
	if err != nil {
		return false, 0, &TransportError{Method: http.MethodGet, URL: u, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxRawDetail*2))
		return false, 0, newProblemError(http.MethodGet, u, resp, body)
	}
	hint, err = readSSE(resp.Body, func(f sseFrame) error {
		ev, err := f.decode()
		if err != nil {
			return stopError{fmt.Errorf("apiclient: GET %s: event %q: %w", u, f.id, err)}
		}
		if err := fn(ev); err != nil {
			return stopError{err}
		}
		if ev.ID != "" {
			*last = ev.ID
		}
		return nil
	})
	if err == nil {
		err = fmt.Errorf("apiclient: GET %s: the stream ended", u)
	}
	return true, hint, err
}

// sseFrame is one server-sent event as read from the wire.
type sseFrame struct {
	id, event string
	data      []string
}

// decode decodes the frame's data as an api.Event; the frame's id and event fill an empty ID
// and Kind.
func (f sseFrame) decode() (api.Event, error) {
	var ev api.Event
	if err := json.Unmarshal([]byte(strings.Join(f.data, "\n")), &ev); err != nil {
		return ev, fmt.Errorf("data is not an event: %w", err)
	}
	if ev.ID == "" {
		ev.ID = f.id
	}
	if ev.Kind == "" {
		ev.Kind = f.event
	}
	return ev, nil
}

// readSSE parses a text/event-stream (the WHATWG rules rsguard's server uses: "field: value"
// lines, a blank line ends an event, ":" starts a comment, an event without data is dropped)
// and calls emit for each event. It returns the last retry: hint and the read error (nil at
// EOF).
func readSSE(r io.Reader, emit func(sseFrame) error) (time.Duration, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	var f sseFrame
	var hint time.Duration
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			if len(f.data) > 0 {
				if err := emit(f); err != nil {
					return hint, err
				}
			}
			f = sseFrame{}
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "id":
			f.id = value
		case "event":
			f.event = value
		case "data":
			f.data = append(f.data, value)
		case "retry":
			if ms, err := strconv.Atoi(value); err == nil && ms > 0 {
				hint = time.Duration(ms) * time.Millisecond
			}
		}
	}
	return hint, sc.Err()
}
