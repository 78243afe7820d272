package main

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rsguard/rsguard/mongo"
)

// Workload timings: an application writing every 100ms, each write given 2s (retries included)
// before it counts as failed.
const (
	writeEvery   = 100 * time.Millisecond
	writeTimeout = 2 * time.Second
)

// write is one insert attempt of the workload.
type write struct {
	id         int64
	start, end time.Time
	err        error
}

// workload inserts {_id: n} with w:"majority" through a replica-set client, one at a time, and
// remembers every attempt: the acknowledged ids are what must survive the failover.
type workload struct {
	client *mongo.SetClient
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	writes []write
}

func startWorkload(ctx context.Context, client *mongo.SetClient) *workload {
	ctx, cancel := context.WithCancel(ctx)
	w := &workload{client: client, cancel: cancel, done: make(chan struct{})}
	go w.loop(ctx)
	return w
}

func (w *workload) loop(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(writeEvery)
	defer t.Stop()
	for id := int64(1); ; id++ {
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		start := time.Now()
		err := w.client.InsertMajority(wctx, id)
		cancel()
		if ctx.Err() != nil {
			return // stopped mid-write: neither acknowledged nor a failure worth reporting
		}
		w.mu.Lock()
		w.writes = append(w.writes, write{id: id, start: start, end: time.Now(), err: err})
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stop ends the workload and waits for the write in flight.
func (w *workload) stop() {
	w.cancel()
	<-w.done
}

func (w *workload) snapshot() []write {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.writes)
}

// writeStats summarises the workload around a fault at t0.
type writeStats struct {
	ok, failed int
	// hit is the first attempt that ended after t0 and failed or waited: the first write the
	// fault got in the way of. firstFail is the first failed attempt after t0; firstOK the first
	// write the new primary acknowledged (it may have started before t0 and been retried by the
	// driver).
	hit, firstFail, firstOK *write
	acked                   []int64
}

func statsAround(ws []write, t0 time.Time) writeStats {
	var s writeStats
	for i := range ws {
		w := &ws[i]
		// A write in flight at t0 that came back quickly was acknowledged by the old primary just
		// before it died; one that waited, or started after t0, was taken by the new primary.
		waited := w.end.After(t0) && (!w.start.Before(t0) || w.end.Sub(w.start) > 2*writeEvery)
		if s.firstOK == nil && s.hit == nil && w.end.After(t0) && (w.err != nil || waited) {
			s.hit = w
		}
		if w.err != nil {
			s.failed++
			if s.firstFail == nil && s.firstOK == nil && w.end.After(t0) {
				s.firstFail = w
			}
			continue
		}
		s.ok++
		s.acked = append(s.acked, w.id)
		if s.firstOK == nil && waited {
			s.firstOK = w
		}
	}
	return s
}

// outage is how long writes failed or hung: from the start of the first attempt the fault got
// in the way of (not before t0) to the acknowledgement of the first successful one after it.
func (s writeStats) outage(t0 time.Time) time.Duration {
	if s.hit == nil || s.firstOK == nil {
		return 0
	}
	start := s.hit.start
	if start.Before(t0) {
		start = t0
	}
	return s.firstOK.end.Sub(start)
}
