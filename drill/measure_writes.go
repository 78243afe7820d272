package drill

import (
	"fmt"
	"time"

	"github.com/rsguard/rsguard/drill/check"
)

// writes fills the workload part of r: counts, losses, time to a writable primary and the
// write-unavailable window.
func writes(rec Recording, r *Result, off func(time.Time) *Ms, mark func(time.Time, MarkKind, string, ...any)) {
	r.Majority = counts(rec.Ops, OpMajority, rec.Majority)
	r.W1 = counts(rec.Ops, OpW1, rec.W1)
	r.AckedLost = len(r.Majority.Lost)
	r.RolledBack = len(r.W1.Lost)
	for _, o := range rec.Ops {
		if o.Kind != OpRead {
			continue
		}
		switch {
		case o.OK():
			r.Reads.OK++
		case o.Err == ErrStaleRead:
			r.Reads.Stale++
		default:
			r.Reads.Failed++
		}
	}
	r.Reads.LongestGapMs = MsOf(LongestGap(rec.Ops, OpRead, rec.Fault, rec.End))

	every := rec.Every
	if every <= 0 {
		every = DefaultEvery
	}
	d, from, to := GapSpan(rec.Ops, OpMajority, rec.Fault, rec.End)
	r.WriteUnavailableMs = MsOf(d)
	if d > 0 {
		r.PausedFromMs, r.PausedToMs = off(from), off(to)
		mark(from, MarkPausedStart, "w:\"majority\" inserts paused")
	}
	// Writable: the acknowledgement that ended the longest pause after the fault, the first write
	// whoever took over acknowledged; without a pause worth the name, the first one after the
	// fault (writes never stopped).
	a := StatsAround(rec.Ops, OpMajority, rec.Fault, every)
	switch {
	case d > 2*every && to.After(rec.Fault):
		r.WritablePrimaryMs = off(to)
		mark(to, MarkWritable, "w:\"majority\" inserts acknowledged again after %.2fs", d.Seconds())
	case a.FirstOK != nil:
		r.WritablePrimaryMs = off(a.FirstOK.End)
		mark(a.FirstOK.End, MarkWritable, "first w:\"majority\" insert acknowledged after the fault (_id %d)", a.FirstOK.ID)
	}
}

func counts(ops []Op, k OpKind, acct check.Accounting) Writes {
	w := Writes{Lost: acct.Lost, UnackedPresent: acct.UnackedPresent}
	for _, o := range ops {
		if o.Kind != k {
			continue
		}
		w.Attempted++
		if o.OK() {
			w.Acked++
		} else {
			w.Failed++
		}
	}
	return w
}

// expectations lists what the run did that its scenario forbids.
func expectations(rec Recording, r Result) []string {
	var p []string
	if rec.ReadBackErr != "" {
		p = append(p, "the documents could not be read back, nothing verified: "+rec.ReadBackErr)
	}
	if r.AckedLost > 0 {
		p = append(p, fmt.Sprintf("%d acknowledged w:\"majority\" inserts lost (_id %v)", r.AckedLost, head(r.Majority.Lost)))
	}
	if len(rec.Majority.Phantoms) > 0 {
		p = append(p, fmt.Sprintf("%d documents no client inserted (_id %v)", len(rec.Majority.Phantoms), head(rec.Majority.Phantoms)))
	}
	if l := rec.Linearizability; l != nil && l.Err != "" {
		p = append(p, "register history: "+l.Err)
	}
	e := rec.Expect
	switch {
	case e.Failover && r.NewPrimary == "":
		p = append(p, fmt.Sprintf("no member other than %s became primary", rec.FormerPrimary))
	case e.Failover && r.WritablePrimaryMs == nil:
		p = append(p, fmt.Sprintf("%s became primary but no w:\"majority\" insert was acknowledged after the fault", r.NewPrimary))
	case e.SamePrimary && r.Failovers > 0:
		p = append(p, fmt.Sprintf("the primary changed %d time(s) (to %s): rsguard must not fail over for this fault", r.Failovers, r.NewPrimary))
	}
	if e.MaxFailovers > 0 && r.Failovers > e.MaxFailovers {
		p = append(p, fmt.Sprintf("the primary changed %d times, more than %d: flapping", r.Failovers, e.MaxFailovers))
	}
	if e.RollbackFiles && r.RollbackFiles == 0 && rolledBack(&rec) {
		p = append(p, fmt.Sprintf("%s rolled back but no archive of its rollback files was recorded", rec.FormerPrimary))
	}
	if e.Recovery && r.RecoveredMs == nil && rec.Subject != "" {
		p = append(p, fmt.Sprintf("%s did not come back as a member in good standing", rec.Subject))
	}
	return p
}

func head(ids []string) []string {
	if len(ids) > 10 {
		return ids[:10]
	}
	return ids
}
