package apiclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rsguard/rsguard/api"
)

// TestEventsResume: the stream is parsed (multi-line data, comments, the id and event fields
// filling what the data leaves out); after the server drops it the client reconnects with
// Last-Event-ID set to the last event delivered and goes on from there.
func TestEventsResume(t *testing.T) {
	f := newFake(t)
	var mu sync.Mutex
	var lastIDs []string
	f.mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "text/event-stream" || r.Header.Get("Authorization") != "Bearer tk" {
			t.Errorf("accept %q, auth %q", r.Header.Get("Accept"), r.Header.Get("Authorization"))
		}
		mu.Lock()
		lastIDs = append(lastIDs, r.Header.Get("Last-Event-ID"))
		n := len(lastIDs)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		switch n {
		case 1:
			fmt.Fprint(w, ": hello\nretry: 1\n\n")
			fmt.Fprint(w, "id: 7\nevent: failover\ndata: {\"time\":\"2026-12-03T06:00:00Z\",\n")
			fmt.Fprint(w, "data:  \"summary\":\"failover to 127.0.0.3:27017\"}\n\n")
			fmt.Fprint(w, "id: 8\r\nevent: pause\r\ndata: {\"id\":\"8\",\"kind\":\"pause\",\"actor\":\"alice\"}\r\n\r\n")
			fmt.Fprint(w, "id: 9\nevent: resume\ndata: {\"id\":\"9\",") // dropped mid-event
		case 2:
			fmt.Fprint(w, "id: 9\nevent: resume\ndata: {\"id\":\"9\",\"kind\":\"resume\"}\n\n")
		default:
			http.Error(w, "too many connections", http.StatusTeapot)
		}
	})
	c := f.client(t, Options{Token: "tk", RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond})
	var got []api.Event
	stop := errors.New("enough")
	err := c.Events(context.Background(), "6", func(ev api.Event) error {
		got = append(got, ev)
		if len(got) == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Events: %v, want fn's error", err)
	}
	if len(got) != 3 || got[0].ID != "7" || got[0].Kind != "failover" || got[0].Summary != "failover to 127.0.0.3:27017" ||
		!got[0].Time.Equal(time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)) || got[1].Actor != "alice" || got[2].ID != "9" {
		t.Errorf("events %+v", got)
	}
	if strings.Join(lastIDs, ",") != "6,8" {
		t.Errorf("Last-Event-ID per connection %q, want 6,8", lastIDs)
	}
}

// TestEventsErrors: the first connection is not retried; a 401 later is not retried either; a
// 503 after the first connection is, until ctx ends.
func TestEventsErrors(t *testing.T) {
	f := newFake(t)
	var mu sync.Mutex
	calls := 0
	status := http.StatusServiceUnavailable
	f.mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "id: 1\ndata: {\"kind\":\"pause\"}\n\n")
			return
		}
		writeProblem(w, status, api.Problem{Title: http.StatusText(status), Status: status})
	})
	c := f.client(t, Options{RetryMin: time.Millisecond, RetryMax: 2 * time.Millisecond})
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	err := c.Events(ctx2, "", func(api.Event) error { return nil })
	mu.Lock()
	n := calls
	mu.Unlock()
	if !errors.Is(err, context.DeadlineExceeded) || n < 3 {
		t.Fatalf("503s: %v after %d connections, want the deadline after several retries", err, n)
	}

	status = http.StatusUnauthorized
	mu.Lock()
	calls = 0
	mu.Unlock()
	err = c.Events(context.Background(), "", func(api.Event) error { return nil })
	if pe := AsProblem(err); pe == nil || pe.StatusCode != 401 {
		t.Fatalf("401 after a stream: %v, want the problem", err)
	}

	f.Close()
	err = c.Events(context.Background(), "", func(api.Event) error { return nil })
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("closed server: %v, want a transport error at once", err)
	}
}

func TestReadSSEBadEvent(t *testing.T) {
	f := newFake(t)
	f.mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "id: 3\ndata: not json\n\n")
	})
	c := f.client(t, Options{})
	err := c.Events(context.Background(), "", func(api.Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `event "3": data is not an event`) {
		t.Fatalf("bad event: %v", err)
	}
}
