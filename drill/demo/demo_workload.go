package demo

import (
	"context"
	"errors"
	"time"

	"github.com/rsguard/rsguard/drill"
)

// The demo's workload is drill's (one w:"majority" writer): this file only adapts its records
// to the demo's narration.

// writeEvery is how often the demo's application writes (drill.DefaultEvery).
const writeEvery = drill.DefaultEvery

// write is one insert attempt of the workload, as the narration prints it.
type write struct {
	id         int64
	start, end time.Time
	err        error
}

func writeOf(o *drill.Op) *write {
	if o == nil {
		return nil
	}
	w := &write{id: o.ID, start: o.Start, end: o.End}
	if !o.OK() {
		w.err = errors.New(o.Err)
	}
	return w
}

// workload inserts {_id: n} with w:"majority" through a replica-set client, one at a time, and
// remembers every attempt: the acknowledged ids are what must survive the failover.
type workload struct{ w *drill.Workload }

func startWorkload(ctx context.Context, client drill.Store) *workload {
	return &workload{w: drill.StartWorkload(ctx, client, drill.WorkloadOptions{Majority: 1, Every: writeEvery})}
}

// stop ends the workload and waits for the write in flight.
func (w *workload) stop() { w.w.Stop() }

func (w *workload) snapshot() []drill.Op { return w.w.Rec.Ops() }

// writeStats summarises the workload around a fault at t0 (drill.StatsAround).
type writeStats struct {
	ok, failed              int
	hit, firstFail, firstOK *write
	acked                   []int64
	around                  drill.Around
}

func statsAround(ops []drill.Op, t0 time.Time) writeStats {
	a := drill.StatsAround(ops, drill.OpMajority, t0, writeEvery)
	return writeStats{ok: a.OK, failed: a.Failed, hit: writeOf(a.Hit), firstFail: writeOf(a.FirstFail),
		firstOK: writeOf(a.FirstOK), acked: a.Acked, around: a}
}

// outage is how long writes failed or hung (drill.Around.Outage).
func (s writeStats) outage(t0 time.Time) time.Duration { return s.around.Outage(t0) }
