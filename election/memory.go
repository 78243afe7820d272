package election

import (
	"cmp"
	"maps"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// MemoryMargin is how long past the anti-flap window a failover or an incident is remembered,
// and how long past its end a freeze or an action in flight is: clocks of different sidecars
// may disagree by this much before a record one of them still needs is dropped by another.
const MemoryMargin = 10 * time.Minute

// MergeMemory merges two copies of the shared memory. It is commutative, associative and
// idempotent (memory_test.go checks it with testing/quick): each record kind is a join
// semilattice, either "the greatest (or least) record in a total order" or, for an action in
// flight, the latest Deadline and RetryAt per key. Neither input is modified.
func MergeMemory(a, b topology.Memory) topology.Memory {
	return topology.Memory{
		Failovers: mergeMap(a.Failovers, b.Failovers, func(x, y topology.FailoverRecord) topology.FailoverRecord {
			return minBy(x, y, cmpFailover)
		}),
		Ack: maxBy(normAck(a.Ack), normAck(b.Ack), func(x, y topology.AckRecord) int {
			return cmp.Or(x.At.Compare(y.At), cmp.Compare(x.By, y.By))
		}),
		Freezes: mergeMap(a.Freezes, b.Freezes, func(x, y topology.FreezeRecord) topology.FreezeRecord {
			return maxBy(x, y, func(x, y topology.FreezeRecord) int {
				return cmp.Or(x.Until.Compare(y.Until), cmp.Compare(x.By, y.By))
			})
		}),
		Pause: maxBy(normPause(a.Pause), normPause(b.Pause), cmpPause),
		Actions: mergeMap(a.Actions, b.Actions, func(x, y topology.ActionRecord) topology.ActionRecord {
			x.Deadline = later(x.Deadline, y.Deadline)
			x.RetryAt = later(x.RetryAt, y.RetryAt)
			return x
		}),
		Resyncs: mergeMap(a.Resyncs, b.Resyncs, func(x, y topology.ResyncRecord) topology.ResyncRecord {
			return maxBy(x, y, func(x, y topology.ResyncRecord) int {
				return cmp.Or(boolOrder(x.Ended)-boolOrder(y.Ended), x.Until.Compare(y.Until), cmp.Compare(x.By, y.By))
			})
		}),
		Requests: mergeMap(a.Requests, b.Requests, func(x, y topology.RequestRecord) topology.RequestRecord {
			return maxBy(x, y, cmpRequest)
		}),
		Incidents: mergeMap(a.Incidents, b.Incidents, func(x, y topology.IncidentRecord) topology.IncidentRecord {
			return minBy(x, y, func(x, y topology.IncidentRecord) int {
				return cmp.Or(x.Since.Compare(y.Since), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.By, y.By),
					cmpIncident(x.Incident, y.Incident))
			})
		}),
	}
}

// PruneMemory drops what can no longer matter at now, which bounds the memory's size: failovers,
// incidents and acknowledgements older than the anti-flap window plus MemoryMargin, freezes and
// actions in flight that ended more than MemoryMargin ago. The pause record is a state, not a
// log: it stays. A peer that has not pruned yet gossips the dropped records back; they are merged
// and dropped again, so copies still converge.
func PruneMemory(m topology.Memory, now time.Time, antiFlapWindow time.Duration) topology.Memory {
	keep := max(antiFlapWindow, 0) + MemoryMargin
	old := func(t time.Time, d time.Duration) bool { return now.Sub(t) > d }
	m.Failovers = pruned(m.Failovers, func(r topology.FailoverRecord) bool { return old(r.At, keep) })
	m.Incidents = pruned(m.Incidents, func(r topology.IncidentRecord) bool { return old(r.Since, keep) })
	m.Freezes = pruned(m.Freezes, func(r topology.FreezeRecord) bool { return old(r.Until, MemoryMargin) })
	m.Resyncs = pruned(m.Resyncs, func(r topology.ResyncRecord) bool { return old(r.Until, MemoryMargin) })
	m.Actions = pruned(m.Actions, func(r topology.ActionRecord) bool {
		return old(later(r.Deadline, r.RetryAt), MemoryMargin)
	})
	m.Requests = pruneRequests(m.Requests, now)
	if !m.Ack.At.IsZero() && old(m.Ack.At, keep) {
		// Every failover it acknowledged is older still, and dropped.
		m.Ack = topology.AckRecord{}
	}
	return m
}

// SameMemory reports whether two copies hold the same records.
func SameMemory(a, b topology.Memory) bool {
	eq := func(x, y time.Time) bool { return x.Equal(y) }
	return maps.EqualFunc(a.Failovers, b.Failovers, func(x, y topology.FailoverRecord) bool {
		return eq(x.At, y.At) && x.Incident == y.Incident && x.To == y.To && x.By == y.By && x.Reason == y.Reason
	}) && eq(a.Ack.At, b.Ack.At) && a.Ack.By == b.Ack.By &&
		maps.EqualFunc(a.Freezes, b.Freezes, func(x, y topology.FreezeRecord) bool { return eq(x.Until, y.Until) && x.By == y.By }) &&
		cmpPause(a.Pause, b.Pause) == 0 &&
		maps.EqualFunc(a.Actions, b.Actions, func(x, y topology.ActionRecord) bool {
			return x.Key() == y.Key() && eq(x.Deadline, y.Deadline) && eq(x.RetryAt, y.RetryAt)
		}) &&
		maps.EqualFunc(a.Incidents, b.Incidents, func(x, y topology.IncidentRecord) bool {
			return eq(x.Since, y.Since) && x.Kind == y.Kind && x.By == y.By && x.Incident == y.Incident
		}) &&
		maps.EqualFunc(a.Resyncs, b.Resyncs, func(x, y topology.ResyncRecord) bool {
			return x.Member == y.Member && x.By == y.By && eq(x.Started, y.Started) && eq(x.Until, y.Until) && x.Ended == y.Ended
		}) &&
		maps.EqualFunc(a.Requests, b.Requests, func(x, y topology.RequestRecord) bool { return cmpRequest(x, y) == 0 })
}

// ResyncHolder is the member whose resync lease holds at now and came first (the earliest
// start, then the lowest member name), other than self; "" when none. Two sidecars that claim
// at once both see both claims after a gossip round, and both yield to the same one.
func ResyncHolder(m topology.Memory, self string, now time.Time) string {
	var first topology.ResyncRecord
	for _, r := range m.Resyncs {
		if !r.Active(now) {
			continue
		}
		if first.Member == "" || cmp.Or(r.Started.Compare(first.Started), cmp.Compare(r.Member, first.Member)) < 0 {
			first = r
		}
	}
	if first.Member == self {
		return ""
	}
	return first.Member
}

// FrozenUntil is the end of host's freeze as the memory knows it (zero if none).
func FrozenUntil(m topology.Memory, host string) time.Time { return m.Freezes[host].Until }

func cmpFailover(x, y topology.FailoverRecord) int {
	return cmp.Or(x.At.Compare(y.At), cmp.Compare(x.To, y.To), cmp.Compare(x.By, y.By),
		cmp.Compare(x.Reason, y.Reason), cmpIncident(x.Incident, y.Incident))
}

// cmpPause orders pause records: the latest wins; at the same instant a pause beats a resume
// (the cautious outcome), then the writer and the reason break the tie.
func cmpPause(x, y topology.PauseRecord) int {
	return cmp.Or(x.At.Compare(y.At), boolOrder(x.Paused)-boolOrder(y.Paused), cmp.Compare(x.By, y.By), cmp.Compare(x.Why, y.Why))
}

func cmpIncident(x, y topology.Incident) int {
	return cmp.Or(cmp.Compare(x.Primary, y.Primary), cmp.Compare(x.Term, y.Term))
}

// normAck and normPause make a record's zero time canonical, so the order is total.
func normAck(r topology.AckRecord) topology.AckRecord {
	if r.At.IsZero() {
		r.At = time.Time{}
	}
	return r
}

func normPause(r topology.PauseRecord) topology.PauseRecord {
	if r.At.IsZero() {
		r.At = time.Time{}
	}
	return r
}

func maxBy[T any](x, y T, c func(T, T) int) T {
	if c(x, y) >= 0 {
		return x
	}
	return y
}

func minBy[T any](x, y T, c func(T, T) int) T {
	if c(x, y) <= 0 {
		return x
	}
	return y
}

func later(x, y time.Time) time.Time {
	if y.After(x) {
		return y
	}
	return x
}

func mergeMap[V any](a, b map[string]V, join func(V, V) V) map[string]V {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := make(map[string]V, max(len(a), len(b)))
	maps.Copy(out, a)
	for k, v := range b {
		if have, ok := out[k]; ok {
			v = join(have, v)
		}
		out[k] = v
	}
	return out
}

func pruned[V any](m map[string]V, drop func(V) bool) map[string]V {
	var out map[string]V
	for k, v := range m {
		if drop(v) {
			continue
		}
		if out == nil {
			out = make(map[string]V, len(m))
		}
		out[k] = v
	}
	return out
}
