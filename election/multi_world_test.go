package election_test

import (
	"fmt"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// A world is several sidecars on a fake clock (multi_test.go drives it from testdata/multi).
// Each sidecar has a declarative view spec: what its mongod and probes show, as key=value
// fields named like MemberView's JSON. Every tick each running sidecar observes (its view is
// materialized at the current time), gossip delivers views over the open links, and each
// sidecar builds its own snapshot from what it received and runs Decide with its own State.
// Relays are not modelled: a cut link is a gossip partition between the two sidecars.

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

type sidecar struct {
	cfg     topology.SidecarConfig
	running bool
	spec    viewSpec
	view    topology.MemberView
	// got is the last view received from each sidecar and when (this sidecar's clock).
	got      map[string]topology.MemberView
	gotAt    map[string]time.Time
	state    election.State
	last     election.Decision
	executes election.Action
}

type world struct {
	now      time.Time
	order    []string
	sidecars map[string]*sidecar
	cut      map[[2]string]bool
	policy   election.Policy
	maxAge   time.Duration
}

func link(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

func (w *world) members() []topology.SidecarConfig {
	var ms []topology.SidecarConfig
	for _, id := range w.order {
		ms = append(ms, w.sidecars[id].cfg)
	}
	return ms
}

func (w *world) open(a, b string) bool {
	return w.sidecars[a].running && w.sidecars[b].running && !w.cut[link(a, b)]
}

// observe materializes every running sidecar's view and delivers it over the open links.
func (w *world) observe() error {
	for _, id := range w.order {
		sc := w.sidecars[id]
		if !sc.running {
			continue
		}
		v, err := sc.spec.materialize(sc.cfg, w.now)
		if err != nil {
			return fmt.Errorf("view of %s: %w", id, err)
		}
		// The shared memory travels in the view, as supervisor.buildViewLocked puts it there.
		v.Memory = sc.state.Memory
		// Data sidecars hold their mongod's credentials, so they may act on other members
		// (supervisor.buildViewLocked: Remote); arbiter sidecars here have no credentials section.
		v.Remote = sc.cfg.Mode == topology.ModeData
		sc.view = v
	}
	for _, to := range w.order {
		for _, from := range w.order {
			if from != to && w.open(from, to) {
				w.sidecars[to].got[from] = w.sidecars[from].view
				w.sidecars[to].gotAt[from] = w.now
			}
		}
	}
	return nil
}

// snapshot is what sidecar id sees, built as supervisor.snapshotLocked builds it.
func (w *world) snapshot(id string) topology.Snapshot {
	sc := w.sidecars[id]
	snap := topology.Snapshot{Now: w.now, SetName: "rs0", Self: id, Members: w.members(), MaxAge: w.maxAge,
		Views: map[string]topology.ViewWithAge{}}
	for from, v := range sc.got {
		snap.Views[from] = topology.ViewWithAge{View: v, Age: w.now.Sub(sc.gotAt[from]), Alive: w.open(from, id)}
	}
	snap.Views[id] = topology.ViewWithAge{View: sc.view, Alive: true}
	return snap
}

// decide runs one decision on every running sidecar and returns the executions.
func (w *world) decide() []string {
	var out []string
	for _, id := range w.order {
		sc := w.sidecars[id]
		if !sc.running {
			continue
		}
		// Every peer's gossiped memory is merged in first (supervisor.mergePeerMemoryLocked).
		for _, v := range sc.got {
			sc.state.Memory = election.MergeMemory(sc.state.Memory, v.Memory)
		}
		d, st := election.Decide(w.snapshot(id), sc.state, w.policy, w.now)
		sc.state, sc.last = st, d
		sc.executes = w.executor(sc, &d)
		sc.last = d
		if !sc.executes.IsNone() {
			out = append(out, fmt.Sprintf("%s: %s executes %s (%s)", rel(w.now), id, sc.executes, d.Reason))
		}
	}
	return out
}

// executor says what sidecar sc runs for its decision: the pure core addresses every action
// (Action.Executor, executor.go), so only the addressed sidecar gets a non-None Decision.Action.
func (w *world) executor(sc *sidecar, d *election.Decision) election.Action {
	if d.Action.IsNone() || d.Action.Executor != sc.cfg.ID {
		return election.Action{Kind: election.None}
	}
	return d.Action
}

func rel(t time.Time) string {
	d := t.Sub(epoch)
	if d >= 0 {
		return "+" + d.String()
	}
	return d.String()
}
