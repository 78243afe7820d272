package drill

import (
	"slices"
	"time"
)

// LongestGap is the longest time between two consecutive acknowledged operations of kind k
// that overlaps [from, to]: the write-unavailable window an application saw.
func LongestGap(ops []Op, k OpKind, from, to time.Time) time.Duration {
	d, _, _ := GapSpan(ops, k, from, to)
	return d
}

// GapSpan is LongestGap with the acknowledgements that bound it (zero times when there is no
// gap: fewer than two acknowledgements around [from, to]).
func GapSpan(ops []Op, k OpKind, from, to time.Time) (d time.Duration, start, end time.Time) {
	var ends []time.Time
	for _, o := range ops {
		if o.Kind == k && o.OK() {
			ends = append(ends, o.End)
		}
	}
	slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(ends); i++ {
		if ends[i].After(from) && !ends[i-1].After(to) && ends[i].Sub(ends[i-1]) > d {
			d, start, end = ends[i].Sub(ends[i-1]), ends[i-1], ends[i]
		}
	}
	return d, start, end
}

// Around summarises the operations of one kind around a fault at t0.
type Around struct {
	OK, Failed int
	// Hit is the first operation that ended after t0 and failed or waited: the first one the
	// fault got in the way of. FirstFail is the first failure after t0; FirstOK the first
	// operation acknowledged after the fault (it may have started before t0 and been retried by
	// the driver). Nil when there is none.
	Hit, FirstFail, FirstOK *Op
	Acked                   []int64
}

// StatsAround summarises ops of kind k around t0, taken in the order they ended; every is the workload's period (an operation
// in flight at t0 that took longer than two periods waited on the fault).
func StatsAround(ops []Op, k OpKind, t0 time.Time, every time.Duration) Around {
	ops = slices.Clone(ops)
	slices.SortStableFunc(ops, func(a, b Op) int { return a.End.Compare(b.End) })
	var s Around
	for i := range ops {
		o := &ops[i]
		if o.Kind != k {
			continue
		}
		// In flight at t0 and quick: acknowledged by the old primary just before the fault; one
		// that waited, or started after t0, was taken by whoever took over.
		waited := o.End.After(t0) && (!o.Start.Before(t0) || o.End.Sub(o.Start) > 2*every)
		if s.FirstOK == nil && s.Hit == nil && o.End.After(t0) && (!o.OK() || waited) {
			s.Hit = o
		}
		if !o.OK() {
			s.Failed++
			if s.FirstFail == nil && s.FirstOK == nil && o.End.After(t0) {
				s.FirstFail = o
			}
			continue
		}
		s.OK++
		s.Acked = append(s.Acked, o.ID)
		if s.FirstOK == nil && waited {
			s.FirstOK = o
		}
	}
	return s
}

// Outage is how long operations failed or hung: from the start of the first one the fault got
// in the way of (not before t0) to the acknowledgement of the first one after it.
func (s Around) Outage(t0 time.Time) time.Duration {
	if s.Hit == nil || s.FirstOK == nil {
		return 0
	}
	start := s.Hit.Start
	if start.Before(t0) {
		start = t0
	}
	return s.FirstOK.End.Sub(start)
}
