package election

import (
	"cmp"
	"slices"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// Operator requests in the shared memory (topology.RequestRecord): how copies merge, how many are
// kept, and the gate that keeps automatic actions off a set an operator is changing.

// RequestRetention is how long an ended request stays in the memory (the history keeps it for
// longer); KeptRequests bounds how many ended ones travel in every gossiped view.
const (
	RequestRetention = time.Hour
	KeptRequests     = 8
)

// cmpRequest orders two copies of one request: the higher stage wins, then the copy with more
// step results (a running request's executor records them one by one), then the later start
// and end; the remaining fields only break ties between copies no correct sidecar produces,
// and keep the merge a total order (commutative). Equal copies compare 0.
func cmpRequest(x, y topology.RequestRecord) int {
	return cmp.Or(cmp.Compare(x.Stage, y.Stage), cmp.Compare(doneSteps(x), doneSteps(y)),
		x.Started.Compare(y.Started), x.Ended.Compare(y.Ended),
		cmp.Compare(x.State, y.State), cmp.Compare(x.Reason, y.Reason), cmp.Compare(x.Message, y.Message),
		slices.CompareFunc(x.Steps, y.Steps, cmpStep),
		cmp.Compare(x.Action, y.Action), cmp.Compare(x.To, y.To), cmp.Compare(boolOrder(x.Force), boolOrder(y.Force)),
		cmp.Compare(x.Actor, y.Actor), cmp.Compare(x.Why, y.Why), cmp.Compare(x.Executor, y.Executor),
		cmp.Compare(x.By, y.By), x.Created.Compare(y.Created), x.Expires.Compare(y.Expires),
		cmp.Compare(x.From, y.From), cmp.Compare(x.ID, y.ID))
}

func cmpStep(a, b topology.RequestStep) int {
	return cmp.Or(cmp.Compare(a.Do, b.Do), cmp.Compare(a.Host, b.Host), cmp.Compare(a.Detail, b.Detail), cmp.Compare(a.Result, b.Result))
}

// doneSteps counts the steps that have a result.
func doneSteps(r topology.RequestRecord) int {
	n := 0
	for _, st := range r.Steps {
		if st.Result != "" {
			n++
		}
	}
	return n
}

// pruneRequests drops ended requests older than RequestRetention, keeps the KeptRequests
// newest ended ones, and drops pending ones expired for more than MemoryMargin (an executor
// that never took it; the sidecar that sees it first records it as failed before then).
func pruneRequests(m map[string]topology.RequestRecord, now time.Time) map[string]topology.RequestRecord {
	if len(m) == 0 {
		return m
	}
	var ended []topology.RequestRecord
	out := map[string]topology.RequestRecord{}
	for id, r := range m {
		switch {
		case r.Stage == topology.RequestEnded:
			if now.Sub(r.Ended) <= RequestRetention {
				ended = append(ended, r)
			}
		case r.Stage == topology.RequestPending && now.Sub(r.Expires) > MemoryMargin:
		default:
			out[id] = r
		}
	}
	slices.SortFunc(ended, func(a, b topology.RequestRecord) int {
		return cmp.Or(b.Ended.Compare(a.Ended), cmp.Compare(a.ID, b.ID))
	})
	for _, r := range ended[:min(len(ended), KeptRequests)] {
		out[r.ID] = r
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// ActiveRequest is the operator request pending or running at now (the earliest created), if
// any: one at a time per set.
func ActiveRequest(m topology.Memory, now time.Time) (topology.RequestRecord, bool) {
	var first topology.RequestRecord
	found := false
	for _, r := range m.Requests {
		if !r.Active(now) {
			continue
		}
		if !found || cmp.Or(r.Created.Compare(first.Created), cmp.Compare(r.ID, first.ID)) < 0 {
			first, found = r, true
		}
	}
	return first, found
}

// operatorBusy reports whether an operator's switchover or failover is pending or running: those
// change the primary on purpose. A resync only rebuilds one secondary and blocks nothing.
func operatorBusy(st State, now time.Time) bool {
	for _, r := range st.Memory.Requests {
		if r.Active(now) && (r.Action == "switchover" || r.Action == "failover") {
			return true
		}
	}
	return false
}
