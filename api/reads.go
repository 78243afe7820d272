package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

func (h *handler) cluster(w http.ResponseWriter, r *http.Request) {
	if h.opts.Cluster == nil {
		problem(w, r, Problem{Status: http.StatusNotImplemented, Detail: "the cluster view is not available"})
		return
	}
	writeJSON(w, http.StatusOK, h.opts.Cluster(), r.URL.Query().Get("pretty") != "")
}

func (h *handler) request(w http.ResponseWriter, r *http.Request) {
	if h.opts.Request == nil {
		problem(w, r, Problem{Status: http.StatusNotImplemented, Detail: "requests are not available"})
		return
	}
	id := r.PathValue("id")
	res, ok := h.opts.Request(id)
	if !ok {
		problem(w, r, Problem{Status: http.StatusNotFound, Field: "id", Detail: "no request " + strconv.Quote(id) +
			" in the set's memory (ended requests are kept an hour; older ones are in /v1/history)"})
		return
	}
	writeJSON(w, http.StatusOK, res, false)
}

// historyQuery parses ?since, ?limit, ?kind and ?after, naming the bad parameter.
func historyQuery(r *http.Request) (HistoryQuery, *Problem) {
	q := r.URL.Query()
	var hq HistoryQuery
	bad := func(field, detail string) (HistoryQuery, *Problem) {
		return hq, &Problem{Status: http.StatusBadRequest, Title: "bad request", Field: field, Detail: detail}
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			d, err2 := time.ParseDuration(v)
			if err2 != nil || d < 0 {
				return bad("since", "since must be an RFC 3339 time or a duration back from now (1h), not "+strconv.Quote(v))
			}
			t = time.Now().Add(-d)
		}
		hq.Since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return bad("limit", "limit must be a whole number >= 0, not "+strconv.Quote(v))
		}
		hq.Limit = n
	}
	hq.Kind = q.Get("kind")
	hq.After = q.Get("after")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		hq.After = id
	}
	return hq, nil
}

func (h *handler) history(w http.ResponseWriter, r *http.Request) {
	if h.opts.History == nil {
		problem(w, r, Problem{Status: http.StatusNotImplemented, Detail: "the history is not available"})
		return
	}
	hq, p := historyQuery(r)
	if p != nil {
		problem(w, r, *p)
		return
	}
	ev := h.opts.History(hq)
	if ev == nil {
		ev = []Event{}
	}
	writeJSON(w, http.StatusOK, History{Events: ev}, r.URL.Query().Get("pretty") != "")
}

func (h *handler) audit(w http.ResponseWriter, r *http.Request) {
	if h.opts.Audit == nil {
		problem(w, r, Problem{Status: http.StatusNotImplemented, Detail: "the audit log is not available"})
		return
	}
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			problem(w, r, Problem{Status: http.StatusBadRequest, Field: "limit", Detail: "limit must be a whole number >= 0, not " + strconv.Quote(v)})
			return
		}
		limit = n
	}
	recs, err := h.opts.Audit(limit)
	if err != nil {
		problem(w, r, Problem{Status: http.StatusInternalServerError, Detail: "reading the audit log: " + err.Error()})
		return
	}
	out := make([]any, 0, len(recs))
	for _, rec := range recs {
		out = append(out, rec)
	}
	sidecar := ""
	if h.opts.Cluster != nil {
		sidecar = h.opts.Cluster().Sidecar
	}
	writeJSON(w, http.StatusOK, Audit{Sidecar: sidecar, Records: out}, false)
}

// events streams the history as server-sent events: the events after Last-Event-ID (or all of
// ?since) first, then live ones, with a comment every 15 s to keep proxies from closing it.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	if h.opts.History == nil || h.opts.Subscribe == nil {
		problem(w, r, Problem{Status: http.StatusNotImplemented, Detail: "the event stream is not available"})
		return
	}
	hq, p := historyQuery(r)
	if p != nil {
		problem(w, r, *p)
		return
	}
	live, cancel := h.opts.Subscribe()
	defer cancel()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	sent := map[string]bool{}
	send := func(ev Event) error {
		if sent[ev.ID] {
			return nil
		}
		sent[ev.ID] = true
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", ev.ID, ev.Kind, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	replay := hq
	if hq.After == "" && hq.Since.IsZero() {
		replay.Limit = max(hq.Limit, 0)
		if replay.Limit == 0 {
			replay.Limit = 50
		}
	}
	for _, ev := range h.opts.History(replay) {
		if send(ev) != nil {
			return
		}
	}
	if _, err := fmt.Fprint(w, ": live\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case ev, ok := <-live:
			if !ok {
				return
			}
			if hq.Kind != "" && ev.Kind != hq.Kind {
				continue
			}
			if send(ev) != nil {
				return
			}
		}
	}
}

// primary and secondary are the load balancers' checks, as Patroni's /primary and /replica.
func (h *handler) primary(w http.ResponseWriter, _ *http.Request) {
	if h.opts.Local == nil {
		text(w, http.StatusServiceUnavailable, "no local mongod (arbiter sidecar)\n")
		return
	}
	l := h.opts.Local()
	if l.Known && l.Writable {
		text(w, http.StatusOK, "primary\n")
		return
	}
	text(w, http.StatusServiceUnavailable, "not the writable primary: "+stateText(l)+"\n")
}

func (h *handler) secondary(w http.ResponseWriter, r *http.Request) {
	if h.opts.Local == nil {
		text(w, http.StatusServiceUnavailable, "no local mongod (arbiter sidecar)\n")
		return
	}
	var maxLag time.Duration
	if v := r.URL.Query().Get("max_lag"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			secs, err2 := strconv.ParseFloat(v, 64)
			if err2 != nil || secs < 0 {
				text(w, http.StatusBadRequest, "max_lag must be a duration like 10s (or seconds), not "+strconv.Quote(v)+"\n")
				return
			}
			d = time.Duration(secs * float64(time.Second))
		}
		maxLag = d
	}
	l := h.opts.Local()
	switch {
	case !l.Known || l.State != "SECONDARY":
		text(w, http.StatusServiceUnavailable, "not a secondary: "+stateText(l)+"\n")
	case maxLag > 0 && l.LagSecs > maxLag.Seconds():
		text(w, http.StatusServiceUnavailable, fmt.Sprintf("secondary %.1fs behind the primary, more than max_lag %s\n", l.LagSecs, maxLag))
	default:
		text(w, http.StatusOK, fmt.Sprintf("secondary, %.1fs behind the primary\n", l.LagSecs))
	}
}

func stateText(l LocalRole) string {
	if !l.Known {
		return "the local mongod does not answer"
	}
	return l.State
}
