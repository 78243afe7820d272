package mongoemu

import (
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// oplogBufferMaxBytes bounds what the fetcher may fetch ahead of the applier: mongod's oplog
// buffer holds 256 MB (bgsync.cpp, OplogBufferBlockingQueue) before the fetcher blocks.
const oplogBufferMaxBytes = 256 << 20

// oplogApplier is the applier side of one fetch: the fetcher pushes batches into a bounded
// buffer and this goroutine applies them, as mongod's OplogFetcher/OplogBuffer/OplogApplier are
// separate stages (oplog_applier_impl.cpp OplogApplierImpl::_run). That separation is what
// rsSyncApplyStop exercises: with it on, the applier blocks before its next batch while the
// fetcher keeps fetching (and keeps learning the term, the commit point and the primary's
// liveness from $replData) until the buffer is full; lastApplied and lastDurable stop, so the
// primary's view of this member, via replSetUpdatePosition, stops too.
type oplogApplier struct {
	rc      *replCoord
	source  string
	onError func() // unblocks the fetcher (closes its connection) when applying fails

	mu      sync.Mutex
	batches [][]bson.Raw
	bytes   int
	err     error
	wake    chan struct{} // a batch was pushed
	space   chan struct{} // a batch was taken
	stop    chan struct{}
	done    chan struct{}
}

func (rc *replCoord) startApplier(source string, onError func()) *oplogApplier {
	a := &oplogApplier{rc: rc, source: source, onError: onError, wake: make(chan struct{}, 1),
		space: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	rc.applier.Store(a)
	go a.run()
	return a
}

// buffered is how many fetched entries wait to be applied (mongod: metrics.repl.buffer.count).
func (a *oplogApplier) buffered() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, b := range a.batches {
		n += len(b)
	}
	return n
}

// push hands a fetched batch to the applier, waiting while the buffer is full. It returns the
// applier's error, if applying has failed.
func (a *oplogApplier) push(batch []bson.Raw) error {
	size := 0
	for _, e := range batch {
		size += len(e)
	}
	for {
		a.mu.Lock()
		if a.err != nil {
			err := a.err
			a.mu.Unlock()
			return err
		}
		if len(batch) == 0 {
			a.mu.Unlock()
			return nil
		}
		if a.bytes == 0 || a.bytes+size <= oplogBufferMaxBytes {
			a.batches = append(a.batches, batch)
			a.bytes += size
			a.mu.Unlock()
			notify(a.wake)
			return nil
		}
		a.mu.Unlock()
		select {
		case <-a.space:
		case <-a.stop:
			return errStopFetch
		case <-a.rc.stopCh:
			return errStopFetch
		}
	}
}

// failed returns the applier's error, if any.
func (a *oplogApplier) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// close stops the applier after the batch it is applying; buffered batches are dropped and
// fetched again from lastApplied by the next fetch.
func (a *oplogApplier) close() {
	a.rc.applier.CompareAndSwap(a, nil)
	close(a.stop)
	<-a.done
}

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (a *oplogApplier) run() {
	defer close(a.done)
	for {
		if !a.pauseWhileApplyStopped() {
			return
		}
		a.mu.Lock()
		var batch []bson.Raw
		if len(a.batches) > 0 {
			batch = a.batches[0]
			a.batches = a.batches[1:]
			for _, e := range batch {
				a.bytes -= len(e)
			}
		}
		a.mu.Unlock()
		if batch == nil {
			// getNextBatch(Seconds(1)): an idle applier comes back to the top of its loop
			// every second, so a fail point set meanwhile is seen without new entries.
			t := time.NewTimer(time.Second)
			select {
			case <-a.wake:
			case <-t.C:
			case <-a.stop:
				t.Stop()
				return
			case <-a.rc.stopCh:
				t.Stop()
				return
			}
			t.Stop()
			continue
		}
		notify(a.space)
		if err := a.rc.applyBatch(batch); err != nil {
			a.mu.Lock()
			a.err = err
			a.mu.Unlock()
			a.onError()
			return
		}
		a.rc.reportPosition(a.source)
	}
}

// pauseWhileApplyStopped is rsSyncApplyStop.pauseWhileSet at the top of the applier loop, with
// mongod's log line (id 21229). It returns false when the fetch or the node stops meanwhile.
func (a *oplogApplier) pauseWhileApplyStopped() bool {
	if _, on := a.rc.n.fail.peek(fpRsSyncApplyStop); !on {
		return true
	}
	a.rc.n.events.info("REPL", 21229, "Oplog Applier - rsSyncApplyStop fail point enabled. Blocking until fail point is disabled")
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if _, on := a.rc.n.fail.peek(fpRsSyncApplyStop); !on {
			return true
		}
		select {
		case <-t.C:
		case <-a.stop:
			return false
		case <-a.rc.stopCh:
			return false
		}
	}
}

// waitDrainSignal holds a primary-elect in drain mode while rsSyncApplyStop is on: mongod's
// applier signals drain complete only from an empty batch with the fail point off
// (oplog_applier_impl.cpp _run: "if (rsSyncApplyStop.shouldFail()) continue;" before
// signalDrainComplete), so a member elected while it was not applying stays unwritable.
func (rc *replCoord) waitDrainSignal(term int64) {
	for {
		if _, on := rc.n.fail.peek(fpRsSyncApplyStop); !on {
			return
		}
		rc.n.mu.Lock()
		draining := rc.term == term && rc.leader == leaderDrain
		rc.n.mu.Unlock()
		if !draining {
			return
		}
		select {
		case <-rc.stopCh:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}
