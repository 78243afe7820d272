package drill

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/mongo"
)

// fakeSet is a three-member set in memory: a killed primary is replaced promoteAfter later (if
// promote), a restarted member comes back SECONDARY, and the store refuses writes while there is
// no primary.
type fakeSet struct {
	mu           sync.Mutex
	hosts        []string
	primary      string
	down         map[string]bool
	promote      bool
	promoteAt    time.Time
	promoteAfter time.Duration
	docs         map[int64]bool
	dropID       int64 // an acknowledged insert the store "loses"
	undos        int
	unsupported  map[Fault]string
	events       []api.Event
	arbiter      string
	antiFlap     bool // the sidecar reports automatic failover blocked by anti_flap
	reg, prevReg int64
	staleReads   bool // ReadRegister answers the value before the last write
	acks         int
	sidecarKills []string
	sidecarUps   int
	// onHistory, when set, is asked at each unfiltered history query (the n-th, from 1) for
	// events the sidecar records from then on: an event that arrives late.
	onHistory    func(n int) []api.Event
	historyCalls int
}

func newFakeSet() *fakeSet {
	return &fakeSet{hosts: []string{"a:1", "b:1", "c:1"}, primary: "a:1", down: map[string]bool{},
		promote: true, promoteAfter: 50 * time.Millisecond, docs: map[int64]bool{}, unsupported: map[Fault]string{}}
}

func (f *fakeSet) Name() string                { return "fake" }
func (f *fakeSet) Local() bool                 { return true }
func (f *fakeSet) Seeds() Seeds                { return Seeds{Set: "rs0", Hosts: f.hosts} }
func (f *fakeSet) Close(context.Context) error { return nil }

func (f *fakeSet) Can(x Fault) error {
	if why, ok := f.unsupported[x]; ok {
		return Unsupported(string(x), why)
	}
	return nil
}

func (f *fakeSet) Members(context.Context) ([]Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.primary == "" && f.promote && !f.promoteAt.IsZero() && !time.Now().Before(f.promoteAt) {
		for _, h := range f.hosts {
			if !f.down[h] {
				f.primary = h
				f.events = append(f.events, api.Event{ID: "failover", Kind: api.EventFailover, Time: time.Now(), Reason: "primary_process_dead", To: h})
				break
			}
		}
	}
	var ms []Member
	for _, h := range append([]string{}, f.hosts...) {
		m := Member{Host: h, Role: RoleSecondary, State: "SECONDARY"}
		switch {
		case f.down[h]:
			m.Role, m.State = RoleOther, "DOWN"
		case h == f.primary:
			m.Role, m.State = RolePrimary, "PRIMARY"
		case h == f.arbiter:
			m.Role, m.State = RoleArbiter, "ARBITER"
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func (f *fakeSet) Sidecars() []Sidecar {
	return []Sidecar{{ID: "s1", Addr: "fake:1", Client: fakeAPI{f}}}
}

func (f *fakeSet) KillMongod(_ context.Context, host string) (Undo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[host] = true
	if host == f.primary {
		f.primary = ""
		f.promoteAt = time.Now().Add(f.promoteAfter)
		f.events = append(f.events, api.Event{ID: "incident", Kind: api.EventIncident, Time: time.Now(), Member: host, Summary: "primary " + host + " found dead"})
	}
	return func(context.Context) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.undos++
		delete(f.down, host)
		return nil
	}, nil
}

func (f *fakeSet) unsupportedUndo(x Fault) (Undo, error) { return nil, Unsupported(string(x), "fake") }

func (f *fakeSet) FreezeHost(context.Context, string) (Undo, error) {
	return f.unsupportedUndo(FaultFreeze)
}
func (f *fakeSet) Isolate(context.Context, string) (Undo, error) {
	return f.unsupportedUndo(FaultIsolate)
}
func (f *fakeSet) StallDisk(context.Context, string) (Undo, error) {
	return f.unsupportedUndo(FaultStallDisk)
}
func (f *fakeSet) LagSecondaries(context.Context, []string) (Undo, error) {
	return f.unsupportedUndo(FaultLag)
}
func (f *fakeSet) KillSidecar(_ context.Context, id string) (Undo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sidecarKills = append(f.sidecarKills, id)
	return func(context.Context) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.sidecarUps++
		return nil
	}, nil
}
func (f *fakeSet) StaleSecondary(context.Context, string) (Undo, error) {
	return f.unsupportedUndo(FaultStale)
}

// The store.

func (f *fakeSet) insert(id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.primary == "" {
		return errors.New("no primary")
	}
	if id != f.dropID {
		f.docs[id] = true
	}
	return nil
}

func (f *fakeSet) InsertMajority(_ context.Context, id int64) error { return f.insert(id) }
func (f *fakeSet) InsertW1(_ context.Context, id int64) error       { return f.insert(id) }
func (f *fakeSet) ReadID(_ context.Context, id int64) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.primary == "" {
		return false, errors.New("no primary")
	}
	return f.docs[id], nil
}
func (f *fakeSet) IDs(context.Context) (map[int64]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int64]bool{}
	for id := range f.docs {
		out[id] = true
	}
	return out, nil
}

func (f *fakeSet) WriteRegister(_ context.Context, _ string, v int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.primary == "" {
		return errors.New("no primary")
	}
	f.prevReg, f.reg = f.reg, v
	return nil
}

func (f *fakeSet) CASRegister(_ context.Context, _ string, old, v int64) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.primary == "" {
		return false, errors.New("no primary")
	}
	if f.reg != old {
		return false, nil
	}
	f.prevReg, f.reg = f.reg, v
	return true, nil
}

func (f *fakeSet) ReadRegister(context.Context, string, mongo.ReadLevel) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.primary == "" {
		return 0, errors.New("no primary")
	}
	if f.staleReads {
		return f.prevReg, nil
	}
	return f.reg, nil
}

func (f *fakeSet) open(context.Context, Seeds, string) (Store, func(context.Context) error, error) {
	return f, func(context.Context) error { return nil }, nil
}

// fakeAPI is the fake set's one sidecar.
type fakeAPI struct{ f *fakeSet }

func (a fakeAPI) Cluster(context.Context) (api.Cluster, error) {
	a.f.mu.Lock()
	defer a.f.mu.Unlock()
	c := api.Cluster{Coordinator: "s1"}
	if a.f.antiFlap {
		c.AutomaticFailover.Blocked = []string{"anti_flap"}
	}
	return c, nil
}

func (a fakeAPI) History(_ context.Context, q apiclient.HistoryQuery) (api.History, error) {
	a.f.mu.Lock()
	defer a.f.mu.Unlock()
	if a.f.onHistory != nil && q.Kind == "" {
		a.f.historyCalls++
		a.f.events = append(a.f.events, a.f.onHistory(a.f.historyCalls)...)
	}
	return api.History{Events: append([]api.Event{}, a.f.events...)}, nil
}

func (a fakeAPI) Audit(context.Context, int) (api.Audit, error) {
	return api.Audit{Records: []any{map[string]any{"time": time.Now().Format(time.RFC3339Nano), "reason": "primary_process_dead", "result": "executed"}}}, nil
}

func (a fakeAPI) Do(_ context.Context, action, _ string, req api.ActionRequest, _ apiclient.DoOptions) (api.ActionResult, error) {
	f := a.f
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case action == api.ActionAcknowledge && req.Actor == "drill":
		f.acks++
		f.antiFlap = false
		return api.ActionResult{State: api.StateDone}, nil
	case action == api.ActionSwitchover && req.Actor == "drill" && f.primary != "":
		from := f.primary
		for _, h := range f.hosts {
			if h != from && !f.down[h] {
				f.primary = h
				break
			}
		}
		f.events = append(f.events, api.Event{ID: "switchover", Kind: api.EventAction, Time: time.Now(), Reason: "switchover_done", From: from, To: f.primary})
		return api.ActionResult{State: api.StateDone, Reason: "switchover_done", Executor: "s1", To: f.primary}, nil
	}
	return api.ActionResult{}, fmt.Errorf("fake: no action %s", action)
}

// steps records the observer's calls.
type steps struct {
	mu     sync.Mutex
	seen   []string
	onStep func(string)
}

func (s *steps) Step(_ string, _ int, step string) {
	s.mu.Lock()
	s.seen = append(s.seen, step)
	s.mu.Unlock()
	if s.onStep != nil {
		s.onStep(step)
	}
}
func (s *steps) Done(Result) {}
