package election

import (
	"encoding/json"
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// genMemory is a random memory drawn from small domains, so that different copies often hold
// records under the same key with different contents: that is where a merge can go wrong.
type genMemory struct{ m topology.Memory }

var memT0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func (genMemory) Generate(r *rand.Rand, _ int) reflect.Value {
	at := func() time.Time { return memT0.Add(time.Duration(r.Intn(4)) * time.Minute) }
	pick := func(xs ...string) string { return xs[r.Intn(len(xs))] }
	inc := func() topology.Incident {
		return topology.Incident{Primary: pick("h1", "h2"), Term: int64(1 + r.Intn(2))}
	}
	var m topology.Memory
	for range r.Intn(3) {
		f := topology.FailoverRecord{Incident: inc(), At: at(), To: pick("h2", "h3"), By: pick("a", "b"), Reason: pick("x", "y")}
		if m.Failovers == nil {
			m.Failovers = map[string]topology.FailoverRecord{}
		}
		m.Failovers[f.Incident.Key()] = f
	}
	if r.Intn(2) == 0 {
		m.Ack = topology.AckRecord{At: at(), By: pick("ops", "dba")}
	}
	for range r.Intn(3) {
		if m.Freezes == nil {
			m.Freezes = map[string]topology.FreezeRecord{}
		}
		m.Freezes[pick("h1", "h2")] = topology.FreezeRecord{Until: at(), By: pick("a", "b")}
	}
	if r.Intn(2) == 0 {
		m.Pause = topology.PauseRecord{Paused: r.Intn(2) == 0, At: at(), By: pick("ops", "dba"), Why: pick("", "upgrade")}
	}
	for range r.Intn(3) {
		a := topology.ActionRecord{Kind: pick("step_up", "freeze"), Host: pick("h2", "h3"), Incident: inc(), By: pick("a", "b"), At: memT0}
		a.Deadline = at()
		if r.Intn(2) == 0 {
			a.RetryAt = at()
		}
		if m.Actions == nil {
			m.Actions = map[string]topology.ActionRecord{}
		}
		m.Actions[a.Key()] = a
	}
	for range r.Intn(3) {
		i := topology.IncidentRecord{Incident: inc(), Since: at(), Kind: pick("primary_process_dead", "sick_primary"), By: pick("a", "b")}
		if m.Incidents == nil {
			m.Incidents = map[string]topology.IncidentRecord{}
		}
		m.Incidents[i.Incident.Key()] = i
	}
	for range r.Intn(3) {
		rs := topology.ResyncRecord{Member: pick("h1", "h2"), By: pick("a", "b"), Started: memT0, Until: at(), Ended: r.Intn(2) == 0}
		if m.Resyncs == nil {
			m.Resyncs = map[string]topology.ResyncRecord{}
		}
		m.Resyncs[rs.Key()] = rs
	}
	for range r.Intn(3) {
		rq := topology.RequestRecord{ID: pick("r1", "r2"), Action: pick("switchover", "resync"), Executor: pick("a", "b"),
			Created: memT0, Expires: at(), Stage: r.Intn(3)}
		if rq.Stage > topology.RequestPending {
			rq.Started = at()
		}
		if rq.Stage == topology.RequestEnded {
			rq.Ended, rq.State, rq.Reason = at(), pick("done", "failed"), pick("x", "y")
			if r.Intn(2) == 0 {
				rq.Steps = []topology.RequestStep{{Do: "step_up", Host: pick("h2", "h3"), Result: "ok"}}
			}
		}
		if m.Requests == nil {
			m.Requests = map[string]topology.RequestRecord{}
		}
		m.Requests[rq.ID] = rq
	}
	return reflect.ValueOf(genMemory{m})
}

var quickCfg = &quick.Config{MaxCount: 2000}

func TestMergeMemoryCommutative(t *testing.T) {
	f := func(a, b genMemory) bool {
		return SameMemory(MergeMemory(a.m, b.m), MergeMemory(b.m, a.m))
	}
	if err := quick.Check(f, quickCfg); err != nil {
		t.Error(err)
	}
}

func TestMergeMemoryAssociative(t *testing.T) {
	f := func(a, b, c genMemory) bool {
		return SameMemory(MergeMemory(MergeMemory(a.m, b.m), c.m), MergeMemory(a.m, MergeMemory(b.m, c.m)))
	}
	if err := quick.Check(f, quickCfg); err != nil {
		t.Error(err)
	}
}

func TestMergeMemoryIdempotent(t *testing.T) {
	f := func(a, b genMemory) bool {
		ab := MergeMemory(a.m, b.m)
		return SameMemory(MergeMemory(a.m, a.m), a.m) && SameMemory(MergeMemory(ab, b.m), ab)
	}
	if err := quick.Check(f, quickCfg); err != nil {
		t.Error(err)
	}
}

// A copy that went through gossip (JSON) merges as the original: a peer's copy of our own
// records never looks like news.
func TestMergeMemorySurvivesJSON(t *testing.T) {
	f := func(a genMemory) bool {
		b, err := json.Marshal(topology.MemberView{SidecarID: "a", Memory: a.m})
		if err != nil {
			return false
		}
		var v topology.MemberView
		if err := json.Unmarshal(b, &v); err != nil {
			return false
		}
		return SameMemory(v.Memory, a.m) && SameMemory(MergeMemory(a.m, v.Memory), a.m)
	}
	if err := quick.Check(f, quickCfg); err != nil {
		t.Error(err)
	}
}

func TestMergeMemoryKeepsTheRightRecord(t *testing.T) {
	inc := topology.Incident{Primary: "h1", Term: 3}
	early := topology.FailoverRecord{Incident: inc, At: memT0, To: "h2", By: "a"}
	late := topology.FailoverRecord{Incident: inc, At: memT0.Add(time.Second), To: "h3", By: "b"}
	a := topology.Memory{
		Failovers: map[string]topology.FailoverRecord{inc.Key(): late},
		Ack:       topology.AckRecord{At: memT0, By: "ops"},
		Freezes:   map[string]topology.FreezeRecord{"h1": {Until: memT0.Add(time.Minute)}},
		Pause:     topology.PauseRecord{Paused: true, At: memT0, By: "ops"},
	}
	b := topology.Memory{
		Failovers: map[string]topology.FailoverRecord{inc.Key(): early},
		Ack:       topology.AckRecord{At: memT0.Add(time.Minute), By: "dba"},
		Freezes:   map[string]topology.FreezeRecord{"h1": {Until: memT0.Add(2 * time.Minute)}},
		Pause:     topology.PauseRecord{Paused: false, At: memT0.Add(time.Second), By: "dba"},
	}
	m := MergeMemory(a, b)
	if got := m.Failovers[inc.Key()]; got.To != "h2" {
		t.Errorf("failover: the earliest record of an incident must win, got %+v", got)
	}
	if m.Ack.By != "dba" {
		t.Errorf("ack: the latest must win, got %+v", m.Ack)
	}
	if !FrozenUntil(m, "h1").Equal(memT0.Add(2 * time.Minute)) {
		t.Errorf("freeze: the latest until must win, got %v", FrozenUntil(m, "h1"))
	}
	if m.Pause.Paused {
		t.Errorf("pause: the later resume must win, got %+v", m.Pause)
	}
	// At the same instant, a pause beats a resume whatever the order.
	p := topology.PauseRecord{Paused: true, At: memT0, By: "a"}
	r := topology.PauseRecord{Paused: false, At: memT0, By: "z"}
	if !MergeMemory(topology.Memory{Pause: p}, topology.Memory{Pause: r}).Pause.Paused ||
		!MergeMemory(topology.Memory{Pause: r}, topology.Memory{Pause: p}).Pause.Paused {
		t.Error("a pause and a resume at the same instant must merge to paused")
	}
}

func TestPruneMemoryBoundsTheRecords(t *testing.T) {
	window := 5 * time.Minute
	now := memT0.Add(time.Hour)
	inc := topology.Incident{Primary: "h1", Term: 3}
	oldInc := topology.Incident{Primary: "h0", Term: 2}
	m := topology.Memory{
		Failovers: map[string]topology.FailoverRecord{
			inc.Key():    {Incident: inc, At: now.Add(-window)},
			oldInc.Key(): {Incident: oldInc, At: now.Add(-window - MemoryMargin - time.Second)},
		},
		Freezes: map[string]topology.FreezeRecord{
			"h1": {Until: now.Add(-time.Second)},
			"h2": {Until: now.Add(-MemoryMargin - time.Second)},
		},
		Actions: map[string]topology.ActionRecord{
			"x": {Kind: "step_up", Deadline: now.Add(-MemoryMargin - time.Second)},
		},
		Ack:   topology.AckRecord{At: now.Add(-window - MemoryMargin - time.Minute)},
		Pause: topology.PauseRecord{Paused: true, At: memT0},
	}
	p := PruneMemory(m, now, window)
	if _, ok := p.Failovers[inc.Key()]; !ok || len(p.Failovers) != 1 {
		t.Errorf("failovers after prune: %v (want only %s)", p.Failovers, inc.Key())
	}
	if _, ok := p.Freezes["h1"]; !ok || len(p.Freezes) != 1 {
		t.Errorf("freezes after prune: %v (want only h1, ended within the margin)", p.Freezes)
	}
	if len(p.Actions) != 0 || !p.Ack.At.IsZero() {
		t.Errorf("actions %v and ack %v must be dropped", p.Actions, p.Ack)
	}
	if !p.Pause.Paused {
		t.Error("a pause is a state and must survive pruning")
	}
	if len(m.Failovers) != 2 {
		t.Error("PruneMemory modified its input")
	}
}

// One step-up per incident at a time: a peer whose views lag a push ranks another candidate
// best once the first runs for election (found by the auth+TLS failover e2e, where a second
// replSetStepUp failed "Election failed"). A freeze of another host, or a step-up for another
// incident, is not blocked; past the deadline a step-up may be issued again.
func TestStepUpInFlightBlocksAnyCandidateOfTheIncident(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 10, 0, 0, time.UTC)
	inc := Incident{Primary: "h1:27017", Term: 3}
	st := State{}.remember("b", Action{Kind: StepUp, Host: "h2:27017", Sidecar: "b", Executor: "b"}, inc,
		ReasonPrimaryProcessDead, true, t0, DefaultPolicy())
	now := t0.Add(time.Second)
	if !st.inFlight(Action{Kind: StepUp, Host: "h3:27017"}, inc, now) {
		t.Error("a step-up of h3 for the same incident is not blocked by the step-up of h2 in flight")
	}
	if st.inFlight(Action{Kind: StepUp, Host: "h3:27017"}, Incident{Primary: "h2:27017", Term: 4}, now) {
		t.Error("a step-up for another incident is blocked")
	}
	if st.inFlight(Action{Kind: Freeze, Host: "h3:27017", Secs: 120}, inc, now) {
		t.Error("a freeze is blocked by a step-up")
	}
	if st.inFlight(Action{Kind: StepUp, Host: "h3:27017"}, inc, t0.Add(DefaultPolicy().PendingTimeout)) {
		t.Error("still blocked past the pending deadline")
	}
}

// Two members claimed a resync at once: both yield to the same one, the first to claim, and a
// lapsed lease holds nobody back.
func TestResyncHolder(t *testing.T) {
	now := memT0.Add(time.Minute)
	a := topology.ResyncRecord{Member: "h2", By: "b", Started: memT0, Until: now.Add(30 * time.Second)}
	b := topology.ResyncRecord{Member: "h1", By: "a", Started: memT0.Add(time.Second), Until: now.Add(30 * time.Second)}
	m := topology.Memory{Resyncs: map[string]topology.ResyncRecord{a.Key(): a, b.Key(): b}}
	if got := ResyncHolder(m, "h1", now); got != "h2" {
		t.Errorf("h1 yields to %q, want h2 (it claimed first)", got)
	}
	if got := ResyncHolder(m, "h2", now); got != "" {
		t.Errorf("h2 yields to %q, want nobody", got)
	}
	if got := ResyncHolder(m, "h3", now.Add(time.Minute)); got != "" {
		t.Errorf("after the leases lapsed: %q", got)
	}
	// h2 ends its resync; a renewal it sent earlier arrives later: the end wins.
	end := a
	end.Until, end.Ended = now, true
	renewal := a
	renewal.Until = now.Add(time.Minute)
	merged := MergeMemory(topology.Memory{Resyncs: map[string]topology.ResyncRecord{a.Key(): end}},
		topology.Memory{Resyncs: map[string]topology.ResyncRecord{a.Key(): renewal}})
	if got := ResyncHolder(MergeMemory(merged, topology.Memory{Resyncs: map[string]topology.ResyncRecord{b.Key(): b}}), "h1", now); got != "" {
		t.Errorf("after h2 ended its resync, h1 still yields to %q", got)
	}
}
