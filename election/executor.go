package election

import (
	"slices"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// Every action is addressed to one sidecar, its executor, as raft addresses its messages. The
// rules, applied by every sidecar to its own snapshot (doc.go says why no order is sent):
//
//   - StepUp, AbortCatchUp, Freeze, StepDown: the sidecar beside the target (Action.Sidecar)
//     when it is visible and ready and does not report its own mongod unreachable. It sends the command to its local mongod, so it needs no
//     credentials for any other member, and an arbiter sidecar without credentials never has
//     to act on an auth or TLS set.
//   - Otherwise a visible, ready sidecar that advertises Remote (credentials and TLS for the
//     other members: every data sidecar, an arbiter sidecar only with its credentials section)
//     and reaches the target itself: the coordinator if it qualifies, else the lowest such id.
//   - Fence: the fenced host's own sidecar and nobody else, with no fallback. Stopping a mongod
//     is never sent from afar, so a fence has exactly one possible executor.
//   - Nobody qualifies: refused_no_executor (refused_fence_unreachable for a fence).
//
// The coordinator (the lowest ready id of the visible majority) no longer executes everything:
// it is the preferred fallback executor, and the coordinator rule still decides who may propose:
// only a sidecar whose snapshot holds a quorum (and so names a coordinator) proposes anything;
// without one it classifies lost_quorum.

// executorOf returns the sidecar that carries a out on snap, or "" and the refusal.
func executorOf(snap topology.Snapshot, a Action) (string, Reason) {
	if own := a.Sidecar; own != "" && sidecarReady(snap, own) && (a.Kind == Fence || !lostOwn(snap, own, a.Host)) {
		return own, ""
	}
	if a.Kind == Fence {
		return "", RefusedFenceUnreachable
	}
	var able []string
	for _, id := range snap.VisibleSidecars() {
		if canReach(snap, id, a.Host) {
			able = append(able, id)
		}
	}
	if len(able) == 0 {
		return "", RefusedNoExecutor
	}
	if c := snap.Coordinator(); slices.Contains(able, c) {
		return c, ""
	}
	return able[0], ""
}

// sidecarReady reports whether sidecar id is visible and does not say it is not ready. Self is
// ready whenever it decides: the supervisor does not call Decide before it is.
func sidecarReady(snap topology.Snapshot, id string) bool {
	if !snap.Visible(id) {
		return false
	}
	v, ok := snap.View(id)
	return !ok || !v.NotReady
}

// lostOwn reports whether sidecar id says it cannot reach its own mongod at host: a command it
// sent would fail, while a sidecar that reaches host from afar may succeed.
func lostOwn(snap topology.Snapshot, id, host string) bool {
	v, ok := snap.View(id)
	return ok && v.Reaches(host) == topology.ReachNo
}

// canReach reports whether sidecar id may act on host from afar: ready, holding credentials for
// the other members (MemberView.Remote), and reaching host on its own last look.
func canReach(snap topology.Snapshot, id, host string) bool {
	v, ok := snap.View(id)
	return ok && !v.NotReady && v.Remote && v.Reaches(host) == topology.ReachYes
}

// Local reports whether the executor sends a to its own mongod rather than to a remote one.
func (a Action) Local() bool { return a.Executor != "" && a.Executor == a.Sidecar }

// pendingForAnyExecutor is pendingBlocks whoever the pending action was addressed to: when view
// skew moves an action from one executor to another between ticks (the target's own sidecar
// drops out of sight), the new one does not send it again before the pending deadline.
func (s State) pendingForAnyExecutor(a Action, inc Incident, now time.Time) bool {
	a.Executor = s.Pending.Action.Executor
	return s.pendingBlocks(a, inc, now)
}
