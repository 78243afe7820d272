package supervisor

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// The set's history (GET /v1/history, /v1/events): incidents, failovers, operator actions,
// pauses, acknowledgements, resyncs and primary changes. Every event is derived from the shared
// memory or from the set itself (a new primary's host@term), with an ID built from the fact, so
// every sidecar derives the same events with the same IDs: any sidecar answers for the set, and
// a history merged from several has each event once. Each sidecar keeps what it derived in
// state_dir/history.jsonl, which outlives the memory's pruning.

// historyKeep bounds the events held in memory and in the file (the oldest go first).
const historyKeep = 5000

type history struct {
	logger *slog.Logger
	path   string
	mu     sync.Mutex
	events []api.Event
	ids    map[string]bool
	subs   map[chan api.Event]struct{}
}

func newHistory(logger *slog.Logger, stateDir string) (*history, error) {
	h := &history{logger: logger, path: filepath.Join(stateDir, "history.jsonl"), ids: map[string]bool{},
		subs: map[chan api.Event]struct{}{}}
	if err := os.MkdirAll(stateDir, 0o750); err != nil {
		return nil, fmt.Errorf("supervisor: history: %w", err)
	}
	f, err := os.Open(h.path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return nil, fmt.Errorf("supervisor: history: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		var ev api.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.ID == "" {
			// A torn last line after a crash: skip it, say where.
			logger.Warn("history: skipping a damaged line", "file", h.path, "line", line, "err", err)
			continue
		}
		if !h.ids[ev.ID] {
			h.ids[ev.ID] = true
			h.events = append(h.events, ev)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("supervisor: history %s line %d: %w", h.path, line, err)
	}
	h.sortLocked()
	if len(h.events) > historyKeep {
		h.events = h.events[len(h.events)-historyKeep:]
		if err := h.rewriteLocked(); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func (h *history) sortLocked() {
	slices.SortStableFunc(h.events, func(a, b api.Event) int { return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ID, b.ID)) })
}

func (h *history) rewriteLocked() error {
	tmp := h.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("supervisor: history: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, ev := range h.events {
		b, _ := json.Marshal(ev)
		_, _ = w.Write(append(b, '\n'))
	}
	if err := errors.Join(w.Flush(), f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("supervisor: history: %w", err)
	}
	if err := os.Rename(tmp, h.path); err != nil {
		return fmt.Errorf("supervisor: history: %w", err)
	}
	return nil
}

// add records the events not seen yet, appends them to the file and tells the subscribers.
func (h *history) add(evs []api.Event) []api.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var fresh []api.Event
	for _, ev := range evs {
		if ev.ID == "" || h.ids[ev.ID] {
			continue
		}
		h.ids[ev.ID] = true
		fresh = append(fresh, ev)
	}
	if len(fresh) == 0 {
		return nil
	}
	slices.SortStableFunc(fresh, func(a, b api.Event) int { return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ID, b.ID)) })
	h.events = append(h.events, fresh...)
	h.sortLocked()
	if f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640); err != nil {
		h.logger.Error("history: cannot append", "file", h.path, "err", err)
	} else {
		w := bufio.NewWriter(f)
		for _, ev := range fresh {
			b, _ := json.Marshal(ev)
			_, _ = w.Write(append(b, '\n'))
		}
		if err := errors.Join(w.Flush(), f.Close()); err != nil {
			h.logger.Error("history: cannot append", "file", h.path, "err", err)
		}
	}
	if len(h.events) > historyKeep {
		for _, ev := range h.events[:len(h.events)-historyKeep] {
			delete(h.ids, ev.ID)
		}
		h.events = slices.Clone(h.events[len(h.events)-historyKeep:])
		if err := h.rewriteLocked(); err != nil {
			h.logger.Error("history: cannot trim", "err", err)
		}
	}
	for c := range h.subs {
		for _, ev := range fresh {
			select {
			case c <- ev:
			default: // a slow reader loses live events; it can read /v1/history
			}
		}
	}
	return fresh
}

// query returns the events matching q, oldest first.
func (h *history) query(q api.HistoryQuery) []api.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	start := 0
	if q.After != "" {
		for i, ev := range h.events {
			if ev.ID == q.After {
				start = i + 1
			}
		}
	}
	var out []api.Event
	for _, ev := range h.events[start:] {
		if (!q.Since.IsZero() && ev.Time.Before(q.Since)) || (q.Kind != "" && ev.Kind != q.Kind) {
			continue
		}
		out = append(out, ev)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out
}

func (h *history) subscribe() (<-chan api.Event, func()) {
	c := make(chan api.Event, 64)
	h.mu.Lock()
	h.subs[c] = struct{}{}
	h.mu.Unlock()
	return c, func() {
		h.mu.Lock()
		delete(h.subs, c)
		h.mu.Unlock()
	}
}

// deriveEvents lists the events the memory and the analysis speak of.
func deriveEvents(m topology.Memory, a election.Analysis, now time.Time) []api.Event {
	var out []api.Event
	for key, r := range m.Incidents {
		out = append(out, api.Event{ID: "incident:" + key, Time: r.Since, Kind: api.EventIncident, Member: r.Incident.Primary,
			Term: r.Incident.Term, Reason: r.Kind,
			Summary: fmt.Sprintf("primary %s (term %d) found %s by %s", r.Incident.Primary, r.Incident.Term, r.Kind, r.By)})
	}
	for key, r := range m.Failovers {
		out = append(out, api.Event{ID: "failover:" + key, Time: r.At, Kind: api.EventFailover, From: r.Incident.Primary,
			To: r.To, Term: r.Incident.Term, Reason: r.Reason, Actor: actorAuto,
			Summary: fmt.Sprintf("rsguard failed over from %s to %s (%s), issued by %s", r.Incident.Primary, r.To, r.Reason, r.By)})
	}
	for id, r := range m.Requests {
		if r.Stage != topology.RequestEnded {
			continue
		}
		res := resultOf(r, now)
		summary := fmt.Sprintf("%s by %s: %s (%s)", r.Action, r.Actor, r.State, r.Reason)
		switch r.Action {
		case api.ActionSwitchover, api.ActionFailover:
			summary = fmt.Sprintf("%s from %s to %s by %s: %s (%s) in %s", r.Action, r.From, r.To, r.Actor, r.State, r.Reason,
				r.Ended.Sub(r.Started).Round(time.Millisecond))
		case api.ActionResync:
			summary = fmt.Sprintf("resync of %s by %s: %s (%s)", r.To, r.Actor, r.State, r.Reason)
		}
		out = append(out, api.Event{ID: "action:" + id, Time: r.Ended, Kind: api.EventAction, Actor: r.Actor, Reason: r.Reason,
			Member: r.To, From: r.From, To: r.To, Summary: summary, Request: &res})
	}
	if p := m.Pause; !p.At.IsZero() {
		kind, verb, reason := api.EventResume, "resumed", reasonResumed
		if p.Paused {
			kind, verb, reason = api.EventPause, "paused", reasonPaused
		}
		why := ""
		if p.Why != "" {
			why = ": " + p.Why
		}
		out = append(out, api.Event{ID: fmt.Sprintf("%s:%d", kind, p.At.UnixNano()), Time: p.At, Kind: kind, Actor: p.By, Reason: reason,
			Summary: "automatic actions " + verb + " by " + p.By + why})
	}
	if ack := m.Ack; !ack.At.IsZero() {
		out = append(out, api.Event{ID: fmt.Sprintf("acknowledge:%d", ack.At.UnixNano()), Time: ack.At, Kind: api.EventAcknowledge,
			Actor: ack.By, Reason: reasonAcknowledged, Summary: "failover acknowledged by " + ack.By + ": the anti-flap block is lifted"})
	}
	for key, r := range m.Resyncs {
		out = append(out, api.Event{ID: "resync_started:" + key, Time: r.Started, Kind: api.EventResyncStarted, Member: r.Member,
			Summary: fmt.Sprintf("resync of %s started by %s", r.Member, r.By)})
		if r.Ended {
			out = append(out, api.Event{ID: "resync_ended:" + key, Time: r.Until, Kind: api.EventResyncEnded, Member: r.Member,
				Summary: fmt.Sprintf("resync of %s ended after %s", r.Member, r.Until.Sub(r.Started).Round(time.Second))})
		}
	}
	if a.Kind == election.Healthy && a.Primary != "" && a.Term > 0 {
		out = append(out, api.Event{ID: fmt.Sprintf("primary:%s@%d", a.Primary, a.Term), Time: now, Kind: api.EventPrimaryChanged,
			Member: a.Primary, To: a.Primary, Term: a.Term, Summary: fmt.Sprintf("%s is the primary (term %d)", a.Primary, a.Term)})
	}
	return out
}
