package election

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// firstStep loads a scenario file's first step: its snapshot, time, policy and state.
func firstStep(t *testing.T, name string) (topology.Snapshot, time.Time, Policy, State) {
	t.Helper()
	sc, err := loadScenario(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	snap, now := prepare(sc.Steps[0])
	return snap, now, sc.Policy.policy(), sc.State
}

// editView changes the view of sidecar id in place.
func editView(snap *topology.Snapshot, id string, f func(*topology.ViewWithAge)) {
	views := make(map[string]topology.ViewWithAge, len(snap.Views))
	for k, v := range snap.Views {
		views[k] = v
	}
	v := views[id]
	f(&v)
	views[id] = v
	snap.Views = views
}

func as(snap topology.Snapshot, self string) topology.Snapshot {
	snap.Self = self
	return snap
}

// An arbiter sidecar without credentials is never chosen: with the candidate's own sidecar not
// ready and the arbiter sidecar as coordinator, nobody can step h2 up; with credentials, the
// arbiter sidecar does it.
func TestExecutorArbiterWithoutCredentialsNeverChosen(t *testing.T) {
	snap, now, p, st := firstStep(t, "psa_primary_zone_lost")
	editView(&snap, "b", func(v *topology.ViewWithAge) { v.View.NotReady = true })
	for _, self := range []string{"b", "c"} {
		d, _ := Decide(as(snap, self), st, p, now)
		if d.Proposed.Kind != StepUp || d.Proposed.Host != "h2:27017" {
			t.Fatalf("%s: proposed %s, want step_up(h2) (test premise)", self, d.Proposed)
		}
		if d.Coordinator != "c" {
			t.Fatalf("%s: coordinator %q, want the arbiter sidecar c (test premise)", self, d.Coordinator)
		}
		if !d.Action.IsNone() || d.Reason != RefusedNoExecutor || d.Executor != "" {
			t.Errorf("%s: %s executor %q, want no action, refused_no_executor", self, d, d.Executor)
		}
	}

	editView(&snap, "c", func(v *topology.ViewWithAge) { v.View.Remote = true })
	d, _ := Decide(as(snap, "c"), st, p, now)
	if d.Action.Kind != StepUp || d.Action.Executor != "c" || d.Action.Local() {
		t.Errorf("arbiter sidecar with credentials: %s executor %q, want it to step h2 up remotely", d, d.Action.Executor)
	}
}

// The coordinator is not the executor of a step-up whose candidate's sidecar is visible: the
// candidate's own sidecar steps its local mongod up, even when the coordinator holds credentials.
func TestExecutorPrefersOwnSidecar(t *testing.T) {
	snap, now, p, st := firstStep(t, "psa_primary_zone_lost")
	editView(&snap, "c", func(v *topology.ViewWithAge) { v.View.Remote = true })
	d, _ := Decide(as(snap, "c"), st, p, now)
	if d.Coordinator != "b" && d.Coordinator != "c" {
		t.Fatalf("coordinator %q", d.Coordinator)
	}
	if !d.Action.IsNone() || d.Reason != RefusedNotExecutor || d.Executor != "b" {
		t.Errorf("on c: %s executor %q, want refused_not_executor addressed to b", d, d.Executor)
	}
	d, _ = Decide(as(snap, "b"), st, p, now)
	if d.Action.Kind != StepUp || d.Action.Executor != "b" || !d.Action.Local() {
		t.Errorf("on b: %s executor %q, want a local step-up", d, d.Action.Executor)
	}
}

// A fence is executed only by the fenced host's own sidecar: when that sidecar is out of sight,
// nobody fences, whatever credentials the others hold.
func TestFenceOnlyByOwnSidecar(t *testing.T) {
	snap, now, p, st := firstStep(t, "psa_sick_primary_fence_first")
	for _, id := range []string{"b", "c"} {
		editView(&snap, id, func(v *topology.ViewWithAge) { v.View.Remote = true })
	}
	for _, self := range []string{"a", "b", "c"} {
		d, _ := Decide(as(snap, self), st, p, now)
		if d.Proposed.Kind != Fence || d.Executor != "a" {
			t.Fatalf("%s: proposed %s executor %q, want fence(h1) by a (test premise)", self, d.Proposed, d.Executor)
		}
		if got := !d.Action.IsNone(); got != (self == "a") {
			t.Errorf("%s: %s, want the fence executed on a only", self, d)
		}
	}
	editView(&snap, "a", func(v *topology.ViewWithAge) { v.Alive = false })
	for _, self := range []string{"b", "c"} {
		d, _ := Decide(as(snap, self), st, p, now)
		if !d.Action.IsNone() || d.Executor != "" {
			t.Errorf("%s: %s executor %q with a's sidecar gone, want no fence", self, d, d.Executor)
		}
	}
}

// On every scenario's snapshots, seen from every configured sidecar: a sidecar executes only
// what is addressed to itself, a fence only beside its own mongod, and an arbiter sidecar that
// does not advertise credentials never executes.
func TestNonExecutorNeverExecutes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		sc, err := loadScenario(f)
		if err != nil {
			t.Fatal(err)
		}
		pol := sc.Policy.policy()
		for i, st := range sc.Steps {
			snap, now := prepare(st)
			executors := map[Action][]string{}
			for _, m := range snap.Members {
				d, _ := Decide(as(snap, m.ID), sc.State, pol, now)
				where := strings.TrimSuffix(filepath.Base(f), ".json") + " step " + string(rune('0'+i)) + " on " + m.ID
				if d.Action.IsNone() {
					continue
				}
				a := d.Action
				executors[a] = append(executors[a], m.ID)
				switch {
				case a.Executor != m.ID:
					t.Errorf("%s: executes %s addressed to %q", where, a, a.Executor)
				case a.Kind == Fence && (m.Host == "" || m.Host != a.Host):
					t.Errorf("%s: fences %s, which is not beside it", where, a.Host)
				case m.Mode == topology.ModeArbiter && !snap.Views[m.ID].View.Remote:
					t.Errorf("%s: arbiter sidecar without credentials executes %s", where, a)
				}
			}
			for a, ids := range executors {
				if len(ids) > 1 {
					t.Errorf("%s step %d: %s executed by %v", filepath.Base(f), i, a, ids)
				}
			}
		}
	}
}

// A sidecar that cannot reach its own mongod is not addressed a step-down of it: a sidecar with
// credentials that reaches the primary from afar is, and without one nobody is.
func TestStepDownFallsBackWhenOwnSidecarLostItsMongod(t *testing.T) {
	snap, now, p, st := firstStep(t, "sick_primary_step_down_policy")
	editView(&snap, "a", func(v *topology.ViewWithAge) { v.View.Local.Reachable = false })
	d, _ := Decide(as(snap, "b"), st, p, now)
	if d.Proposed.Kind != StepDown || d.Reason != RefusedNoExecutor {
		t.Errorf("no sidecar with credentials: %s executor %q, want refused_no_executor", d, d.Executor)
	}
	for _, id := range []string{"b", "c"} {
		editView(&snap, id, func(v *topology.ViewWithAge) { v.View.Remote = true })
	}
	for _, self := range []string{"a", "b", "c"} {
		d, _ := Decide(as(snap, self), st, p, now)
		if d.Executor != "b" || (self == "b") == d.Action.IsNone() || (self == "b" && d.Action.Local()) {
			t.Errorf("%s: %s executor %q, want a remote step-down by b", self, d, d.Executor)
		}
	}
}

// A step-up issued to the candidate's own sidecar is not issued again by the fallback executor
// when that sidecar drops out of sight before the pending deadline.
func TestPendingStepUpNotReissuedByAnotherExecutor(t *testing.T) {
	snap, now, p, st := firstStep(t, "psa_primary_zone_lost")
	editView(&snap, "c", func(v *topology.ViewWithAge) { v.View.Remote = true })
	d, next := Decide(as(snap, "c"), st, p, now)
	if d.Executor != "b" || d.Reason != RefusedNotExecutor {
		t.Fatalf("first tick on c: %s executor %q (test premise)", d, d.Executor)
	}
	// b, the executor, issues the step-up; its record reaches c through gossip.
	if bd, bnext := Decide(as(snap, "b"), st, p, now); bd.Action.Kind != StepUp {
		t.Fatalf("first tick on b: %s (test premise)", bd)
	} else {
		next.Memory = MergeMemory(next.Memory, bnext.Memory)
	}
	editView(&snap, "b", func(v *topology.ViewWithAge) { v.View.NotReady = true })
	later := now.Add(time.Second)
	d, _ = Decide(as(snap, "c"), next, p, later)
	if !d.Action.IsNone() || d.Reason != RefusedActionPending || d.Executor != "c" {
		t.Errorf("1 s later with b not ready: %s executor %q, want c to wait for the pending step-up", d, d.Executor)
	}
	d, _ = Decide(as(snap, "c"), next, p, now.Add(p.PendingTimeout))
	if d.Action.Kind != StepUp || d.Action.Executor != "c" {
		t.Errorf("past the pending deadline: %s executor %q, want c to step h2 up", d, d.Executor)
	}
}
