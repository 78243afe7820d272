package supervisor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// What the API reads besides the status and the cluster view: the history, its stream, the
// audit log and the local mongod's role.

// recordHistory derives the events of the memory and the analysis (history.go), keeps the new
// ones and sets the failover-blocked gauge.
func (s *Supervisor) recordHistory(a election.Analysis) {
	settled := s.gossip.Settled()
	s.mu.Lock()
	mem := s.state.Memory
	now := s.now()
	quorum := s.lastSnap != nil && s.lastSnap.HasQuorum()
	if a.Kind == election.Healthy && (s.lastSnap == nil || !primaryConfirmed(*s.lastSnap, a.Primary, a.Term)) {
		a.Term = 0 // a stale view's pairing of a host and a term: no primary_changed event from it
	}
	blocked := s.blockedReasonsLocked(quorum, settled)
	s.mu.Unlock()
	on := map[string]bool{}
	for _, b := range blocked {
		on[b] = true
	}
	for _, b := range blockedReasons {
		v := 0.0
		if on[b] {
			v = 1
		}
		s.metrics.failoverBlocked.WithLabelValues(b).Set(v)
	}
	fresh := s.hist.add(deriveEvents(mem, a, now))
	for _, ev := range fresh {
		s.logger.Info("history", "event", ev.Kind, "summary", ev.Summary, "id", ev.ID)
	}
	s.notifyHistory(fresh)
}

// History is GET /v1/history.
func (s *Supervisor) History(q api.HistoryQuery) []api.Event { return s.hist.query(q) }

// Subscribe is GET /v1/events' live part.
func (s *Supervisor) Subscribe() (<-chan api.Event, func()) { return s.hist.subscribe() }

// Audit returns this sidecar's newest limit audit lines (all when limit <= 0), oldest first.
func (s *Supervisor) Audit(limit int) ([]json.RawMessage, error) {
	f, err := os.Open(s.cfg.AuditLog)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("supervisor: audit log: %w", err)
	}
	defer f.Close()
	var out []json.RawMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			continue // a torn line after a crash
		}
		out = append(out, json.RawMessage(append([]byte{}, sc.Bytes()...)))
		if limit > 0 && len(out) > 2*limit {
			out = append(out[:0], out[len(out)-limit:]...)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("supervisor: audit log %s: %w", s.cfg.AuditLog, err)
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}

// Local is the local mongod's role for the load-balancer checks; Known is false in arbiter mode
// and while the local mongod does not answer.
func (s *Supervisor) Local() api.LocalRole {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mode != topology.ModeData || !s.local.usable || !s.local.reachable() {
		return api.LocalRole{}
	}
	v := s.local.view
	r := api.LocalRole{Known: true, State: v.State.String(), Writable: v.State == topology.StatePrimary && s.local.obs.Hello.IsWritablePrimary}
	if s.lastSnap != nil {
		for _, row := range membersTable(*s.lastSnap, s.decision.Decision.Analysis) {
			if row.Host == s.selfHost {
				r.LagSecs = row.LagSeconds
			}
		}
	}
	return r
}

// primaryConfirmed reports whether a view says host is the primary of term: its own sidecar's
// mongod in that term, or a mongod's hello naming it with that electionId term.
func primaryConfirmed(snap topology.Snapshot, host string, term int64) bool {
	for _, id := range snap.VisibleSidecars() {
		v, _ := snap.View(id)
		if v.Local.Host == host && v.Local.Reachable && v.Local.State == topology.StatePrimary && v.Local.Term == term {
			return true
		}
		if v.Primary.Host == host && v.Primary.ElectionTerm == term {
			return true
		}
	}
	return false
}
