package supervisor

import (
	"encoding/hex"
	"sync"
	"time"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/mongo/mongotest"
	"github.com/rsguard/rsguard/topology"
)

// world is a scripted replica set behind mongotest fakes. Every sidecar gets its own fake per
// host (so faults can be per observer, like a cut link), and every fake builds its replies from
// the world's state at call time (so a promotion shows everywhere at once).
type world struct {
	mu      sync.Mutex
	set     string
	hosts   []string
	primary string
	term    int64
	termAt  time.Time
	stale   map[string]int64 // hosts still claiming PRIMARY in an older term
	down    map[string]bool  // dead processes, as the others' heartbeats report them
	optime  map[string]topology.OpTime
	setOf   map[string]string // a host's replica set name when it differs
	copies  map[string]map[string]*mongotest.Node
	// promoteAfter delays the effect of a replSetStepUp, so a test can see it stay pending.
	promoteAfter time.Duration
	// keepStale: a stepped-up host's predecessor keeps claiming PRIMARY (a sick primary).
	keepStale bool
	// states overrides the state a host reports (ROLLBACK, RECOVERING...).
	states map[string]topology.MemberState
	// tooStale hosts report tooStale: true (with states[host] RECOVERING, spec §7.5).
	tooStale map[string]bool
}

func newWorld(set string, hosts []string, primary string) *world {
	w := &world{set: set, hosts: hosts, primary: primary, term: 3, stale: map[string]int64{},
		down: map[string]bool{}, optime: map[string]topology.OpTime{}, setOf: map[string]string{},
		copies: map[string]map[string]*mongotest.Node{}}
	base := uint32(time.Now().Unix())
	for i, h := range hosts {
		w.optime[h] = topology.MakeOpTime(base, uint32(9-2*i), 3)
	}
	w.optime[primary] = topology.MakeOpTime(base, 10, 3)
	return w
}

// node is sidecar's fake for host.
func (w *world) node(sidecar, host string) *mongotest.Node {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nodeLocked(sidecar, host)
}

func (w *world) nodeLocked(sidecar, host string) *mongotest.Node {
	if w.copies[sidecar] == nil {
		w.copies[sidecar] = map[string]*mongotest.Node{}
	}
	n := w.copies[sidecar][host]
	if n == nil {
		n = mongotest.New(host)
		n.OnCall(func(c mongotest.Call) error { return w.onCall(n, host, c) })
		if w.down[host] {
			n.FailAll(mongotest.Refused(host))
		}
		w.copies[sidecar][host] = n
	}
	return n
}

func (w *world) onCall(n *mongotest.Node, host string, c mongotest.Call) error {
	switch c.Op {
	case mongotest.OpHello:
		n.SetHello(w.hello(host))
	case mongotest.OpStatus:
		n.SetStatus(w.status(host))
	case mongotest.OpConfig:
		n.SetConfig(w.config())
	case mongotest.OpStepUp:
		w.mu.Lock()
		d := w.promoteAfter
		w.mu.Unlock()
		if d > 0 {
			time.AfterFunc(d, func() { w.promote(host) })
		} else {
			w.promote(host)
		}
	case mongotest.OpShutdown:
		go w.kill(host) // the fake's reply comes first, as a real shutdown's connection close does
	}
	return nil
}

func (w *world) promote(host string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.keepStale && !w.down[w.primary] {
		w.stale[w.primary] = w.term
	}
	w.primary = host
	w.term++
	w.termAt = time.Now()
	o := w.optime[host]
	w.optime[host] = topology.MakeOpTime(o.Secs()+1, 1, w.term)
}

// kill makes host's process gone: every observer is refused.
func (w *world) kill(host string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.down[host] = true
	delete(w.stale, host)
	for _, m := range w.copies {
		if n := m[host]; n != nil {
			n.FailAll(mongotest.Refused(host))
		}
	}
}

// revive restarts host as a secondary.
func (w *world) revive(host string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.down, host)
	for _, m := range w.copies {
		if n := m[host]; n != nil {
			n.FailAll(nil)
		}
	}
}

// cut makes host unreachable (timeouts) from one sidecar only.
func (w *world) cut(sidecar, host string) { w.node(sidecar, host).FailAll(mongotest.Hang()) }

// failProbes makes every write probe to host, w:"majority" and w:1 j:true alike, fail as a
// stalled disk does.
func (w *world) failProbes(host string, err error) {
	w.failProbe(host, mongotest.OpWriteProbe, err)
	w.failProbe(host, mongotest.OpJournalProbe, err)
}

// failProbe makes one kind of write probe to host fail (nil clears it): OpWriteProbe alone is
// what lagging secondaries do to a healthy primary.
func (w *world) failProbe(host string, op mongotest.Op, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.copies {
		if n := m[host]; n != nil {
			n.Fail(op, err)
		}
	}
}

// calls counts op on host over every sidecar's fake.
func (w *world) calls(host string, op mongotest.Op) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	total := 0
	for _, m := range w.copies {
		if n := m[host]; n != nil {
			total += len(n.CallsOf(op))
		}
	}
	return total
}

func (w *world) stateLocked(h string) topology.MemberState {
	if st, ok := w.states[h]; ok {
		return st
	}
	if _, ok := w.stale[h]; ok || h == w.primary {
		return topology.StatePrimary
	}
	return topology.StateSecondary
}

// setState makes h report st until clearState.
func (w *world) setState(h string, st topology.MemberState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.states == nil {
		w.states = map[string]topology.MemberState{}
	}
	w.states[h] = st
}

func (w *world) clearState(h string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.states, h)
	delete(w.tooStale, h)
}

// makeTooStale makes h RECOVERING with tooStale, far behind the primary.
func (w *world) makeTooStale(h string) {
	w.setState(h, topology.StateRecovering)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tooStale == nil {
		w.tooStale = map[string]bool{}
	}
	w.tooStale[h] = true
	w.optime[h] = topology.MakeOpTime(w.optime[w.primary].Secs()-3600, 1, 1)
}

func (w *world) termOfLocked(h string) int64 {
	if t, ok := w.stale[h]; ok {
		return t
	}
	return w.term
}

func (w *world) setNameLocked(h string) string {
	if s, ok := w.setOf[h]; ok {
		return s
	}
	return w.set
}

func (w *world) hello(host string) mongo.Hello {
	w.mu.Lock()
	defer w.mu.Unlock()
	h := mongo.Hello{SetName: w.setNameLocked(host), SetVersion: 1, Me: host, Hosts: w.hosts,
		Primary: w.primary, MaxWireVersion: 21, LocalTime: time.Now(),
		LastWrite: mongo.LastWrite{OpTime: w.optime[host], Date: time.Now()}}
	switch st := w.stateLocked(host); {
	case st == topology.StatePrimary:
		term := w.termOfLocked(host)
		id := mongo.ElectionIDForTerm(term)
		h.IsWritablePrimary, h.ElectionID, h.ElectionTerm, h.Primary = true, hex.EncodeToString(id[:]), term, host
	default:
		h.Secondary = true
	}
	return h
}

func (w *world) status(host string) mongo.Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := mongo.Status{Set: w.setNameLocked(host), Date: time.Now(), MyState: w.stateLocked(host),
		Term: w.termOfLocked(host), Applied: w.optime[host], AppliedWall: time.Now(), TooStale: w.tooStale[host]}
	if host == w.primary && !w.termAt.IsZero() {
		st.ElectionCandidate = &mongo.ElectionCandidateMetrics{Term: w.term, Date: w.termAt}
	}
	for _, h := range w.hosts {
		m := mongo.MemberStatus{Name: h, Health: 1, State: w.stateLocked(h), OpTime: w.optime[h], Self: h == host}
		if w.down[h] && h != host {
			m.Health, m.State = 0, topology.StateDown
		}
		st.Members = append(st.Members, m)
	}
	return st
}

func (w *world) config() mongo.ReplConfig {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := mongo.ReplConfig{ID: w.set, Version: 1, Term: w.term, ProtocolVersion: 1}
	for i, h := range w.hosts {
		c.Members = append(c.Members, mongo.NewConfigMember(i, h))
	}
	return c
}
