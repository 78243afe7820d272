package dashboard_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rsguard/rsguard/api"
)

const (
	adminToken = "admin-secret"
	readToken  = "read-secret"
)

// fakeAPI is a tiny in-memory /v1 for the dashboard's browser test: three members, a switchover
// that makes its target primary and records an event, the history and a live event stream that
// ends after each live event it sends, so that the page must reconnect with Last-Event-ID.
type fakeAPI struct {
	mu      sync.Mutex
	members []string
	primary string
	term    int64
	events  []api.Event
	changed chan struct{} // closed and replaced when an event is added
	done    chan struct{} // closed when the test ends, to end the streams
	dryRuns []api.ActionRequest
	runs    []api.ActionRequest
	streams []streamOpen
	paused  *api.Pause
	// requests are the pending resyncs, answered "running" then "done" on GET /v1/requests/{id}.
	requests map[string]*api.ActionResult
}

// streamOpen is one GET /v1/events as the server saw it.
type streamOpen struct {
	Auth, LastEventID string
}

func newFakeAPI() *fakeAPI {
	f := &fakeAPI{
		members:  []string{"h1:27017", "h2:27017", "h3:27017"},
		primary:  "h1:27017",
		term:     3,
		changed:  make(chan struct{}),
		requests: map[string]*api.ActionResult{},
		done:     make(chan struct{}),
	}
	f.addLocked(api.Event{Kind: api.EventPrimaryChanged, Summary: "h1:27017 became primary in term 3",
		To: "h1:27017", Term: 3})
	return f
}

func (f *fakeAPI) close() { close(f.done) }

func (f *fakeAPI) addLocked(ev api.Event) api.Event {
	ev.ID = fmt.Sprintf("ev-%d", len(f.events)+1)
	ev.Time = time.Now().UTC()
	f.events = append(f.events, ev)
	close(f.changed)
	f.changed = make(chan struct{})
	return ev
}

// handler routes the fake's endpoints, with the sidecar's token rules.
func (f *fakeAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/cluster", f.read(f.cluster))
	mux.HandleFunc("GET /v1/history", f.read(f.history))
	mux.HandleFunc("GET /v1/events", f.read(f.stream))
	mux.HandleFunc("POST /v1/switchover", f.admin(f.switchover))
	mux.HandleFunc("POST /v1/acknowledge", f.admin(f.acknowledge))
	mux.HandleFunc("POST /v1/pause", f.admin(f.pause))
	mux.HandleFunc("POST /v1/resume", f.admin(f.resume))
	mux.HandleFunc("POST /v1/resync/{member}", f.admin(f.resync))
	mux.HandleFunc("GET /v1/requests/{id}", f.read(f.request))
	return mux
}

func bearer(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func (f *fakeAPI) read(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if t := bearer(r); t != readToken && t != adminToken {
			problem(w, api.Problem{Title: "unauthorized", Status: http.StatusUnauthorized,
				Detail: "a read or admin token is required", Field: "Authorization"})
			return
		}
		next(w, r)
	}
}

func (f *fakeAPI) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch bearer(r) {
		case adminToken:
			next(w, r)
		case readToken:
			problem(w, api.Problem{Title: "forbidden", Status: http.StatusForbidden,
				Detail: "the read token cannot run admin actions", Field: "Authorization"})
		default:
			problem(w, api.Problem{Title: "unauthorized", Status: http.StatusUnauthorized,
				Detail: "the admin token is required", Field: "Authorization"})
		}
	}
}

func problem(w http.ResponseWriter, p api.Problem) {
	p.Type = "about:blank"
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) cluster(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sidecars := []string{"s1", "s2", "s3"}
	c := api.Cluster{
		Time: time.Now().UTC(), Set: "rs0", Sidecar: "s1", Coordinator: "s1",
		Health: api.HealthDegraded, Problems: []string{"h3:27017 lags 12.0 s behind the primary"},
		Primary: f.primary, Term: f.term,
		Quorum:            api.Quorum{Configured: 3, Needed: 2, Visible: sidecars, Has: true},
		AutomaticFailover: api.Automatic{Enabled: true, Blocked: []string{"anti_flap"}},
		Resync:            &api.Resync{Member: "h3:27017", Phase: "initial_sync", Percent: 42, By: "s3"},
		Analysis:          api.Analysis{Kind: "healthy", Primary: f.primary},
		Paused:            f.paused,
	}
	for i, h := range f.members {
		m := api.Member{Host: h, Sidecar: sidecars[i], State: "SECONDARY", Healthy: true, Priority: 1, Votes: 1,
			SeenBy: sidecars, UnseenBy: []string{}}
		if h == f.primary {
			m.State = "PRIMARY"
		}
		if i == 2 {
			m.LagSecs = 12
			m.SeenBy, m.UnseenBy = []string{"s2", "s3"}, []string{"s1"}
		}
		c.Members = append(c.Members, m)
		c.Sidecars = append(c.Sidecars, api.Sidecar{ID: sidecars[i], Mode: "data", Alive: true, Ready: true,
			AgeSecs: 0.4, Mongod: h})
	}
	reply(w, http.StatusOK, c)
}

func (f *fakeAPI) history(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	reply(w, http.StatusOK, api.History{Events: slices.Clone(f.events)})
}

// stream sends the events after Last-Event-ID, then waits for new ones; after sending a live
// one it ends the response, as a restarting sidecar or a proxy's idle timeout would.
func (f *fakeAPI) stream(w http.ResponseWriter, r *http.Request) {
	after := r.Header.Get("Last-Event-ID")
	if after == "" {
		after = r.URL.Query().Get("after")
	}
	f.mu.Lock()
	f.streams = append(f.streams, streamOpen{Auth: bearer(r), LastEventID: after})
	next := 0
	for i, ev := range f.events {
		if ev.ID == after {
			next = i + 1
		}
	}
	f.mu.Unlock()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_, _ = fmt.Fprint(w, ": rsguard events\nretry: 200\n\n")
	_ = rc.Flush()
	live := false
	for {
		f.mu.Lock()
		pending := slices.Clone(f.events[next:])
		changed := f.changed
		f.mu.Unlock()
		for _, ev := range pending {
			b, _ := json.Marshal(ev)
			// Split the data over two writes so the page's parser meets a chunk boundary.
			half := len(b) / 2
			_, _ = fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s", ev.ID, ev.Kind, b[:half])
			_ = rc.Flush()
			_, _ = fmt.Fprintf(w, "%s\n\n", b[half:])
			_ = rc.Flush()
			next++
		}
		if live && len(pending) > 0 {
			return
		}
		live = true
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-f.done:
			return
		}
	}
}

func (f *fakeAPI) snapshot() (dry, runs []api.ActionRequest, streams []streamOpen, primary string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.dryRuns), slices.Clone(f.runs), slices.Clone(f.streams), f.primary
}
