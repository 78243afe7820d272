package election

import (
	"cmp"
	"encoding/json"
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

// cmpRequest orders two copies of one request: the higher stage wins, then the later start and
// end; equal copies compare 0. The last tie-break (the whole record's encoding) only matters for
// copies no correct sidecar produces, and keeps the merge deterministic.
func cmpRequest(x, y topology.RequestRecord) int {
	if c := cmp.Or(cmp.Compare(x.Stage, y.Stage), x.Started.Compare(y.Started), x.Ended.Compare(y.Ended)); c != 0 {
		return c
	}
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return slices.Compare(bx, by)
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
