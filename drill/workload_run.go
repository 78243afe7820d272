package drill

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rsguard/rsguard/drill/check"
	"github.com/rsguard/rsguard/mongo"
)

// Store is what the workloads need of a replica-set client; *mongo.SetClient implements it.
type Store interface {
	InsertMajority(ctx context.Context, id int64) error
	InsertW1(ctx context.Context, id int64) error
	ReadID(ctx context.Context, id int64) (bool, error)
	IDs(ctx context.Context) (map[int64]bool, error)
	WriteRegister(ctx context.Context, key string, v int64) error
	ReadRegister(ctx context.Context, key string, level mongo.ReadLevel) (int64, error)
	CASRegister(ctx context.Context, key string, old, new int64) (bool, error)
}

// Workload defaults: an application writing every 100ms, each operation given 2s (the driver's
// retries included) before it counts as failed.
const (
	DefaultEvery   = 100 * time.Millisecond
	DefaultTimeout = 2 * time.Second
)

// WorkloadOptions say how many clients of each kind run, and how often they act.
type WorkloadOptions struct {
	// Registers are clients reading, writing (w:"majority") and compare-and-setting registers,
	// checked for linearizability afterwards: RegisterKeys (default one, "r"), read at a level
	// of RegisterReads (default linearizable).
	Majority, W1, Readers, Registers int
	Every, Timeout                   time.Duration
	RegisterKeys                     []string
	RegisterReads                    []mongo.ReadLevel
}

func (o WorkloadOptions) withDefaults() WorkloadOptions {
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return registerDefaults(o)
}

// idBase keeps the clients' ids apart: the first w:"majority" writer inserts 1, 2, 3...; the
// others start at whole billions (w:1 writers from 10^12), so an id says who wrote it.
func idBase(k OpKind, client int) int64 {
	base := int64(client) * 1_000_000_000
	if k == OpW1 {
		base += 1_000_000_000_000
	}
	return base
}

// Workload runs the writers and readers and records every operation; the inserts are also
// recorded for acknowledged-write accounting (drill/check), w:"majority" and w:1 apart.
type Workload struct {
	Rec               *Recorder
	Majority, W1      *check.Inserts
	History           *check.History // the register clients' operations
	cancel            context.CancelFunc
	wg                sync.WaitGroup
	lastMajorityAcked atomic.Int64
	nextValue         atomic.Int64 // the register writes' unique values
}

// StartWorkload starts the clients of o on store until Stop.
func StartWorkload(ctx context.Context, store Store, o WorkloadOptions) *Workload {
	o = o.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	w := &Workload{Rec: &Recorder{}, Majority: check.NewInserts(), W1: check.NewInserts(),
		History: check.NewHistory(check.HistoryOptions{}), cancel: cancel}
	for c := range o.Majority {
		w.start(ctx, o, func(ctx context.Context, seq int64) Op {
			return w.insert(ctx, OpMajority, c, seq, w.Majority, store.InsertMajority)
		})
	}
	for c := range o.W1 {
		w.start(ctx, o, func(ctx context.Context, seq int64) Op {
			return w.insert(ctx, OpW1, c, seq, w.W1, store.InsertW1)
		})
	}
	for c := range o.Readers {
		w.start(ctx, o, func(ctx context.Context, _ int64) Op { return w.read(ctx, c, store) })
	}
	for c := range o.Registers {
		rc := &registerClient{c: c, seen: map[string]int64{}}
		w.start(ctx, o, func(ctx context.Context, seq int64) Op { return w.registerOp(ctx, rc, seq, store, o) })
	}
	return w
}

func (w *Workload) start(ctx context.Context, o WorkloadOptions, op func(context.Context, int64) Op) {
	w.wg.Go(func() { loop(ctx, o.Every, o.Timeout, op, w.Rec) })
}

func (w *Workload) insert(ctx context.Context, k OpKind, client int, seq int64, acct *check.Inserts, do func(context.Context, int64) error) Op {
	id := idBase(k, client) + seq
	key := strconv.FormatInt(id, 10)
	_ = acct.Attempt(key) // ids are unique by construction
	o := Op{Kind: k, Client: client, ID: id, Start: time.Now()}
	err := do(ctx, id)
	o.End = time.Now()
	if err != nil {
		o.Err = err.Error()
		return o
	}
	_ = acct.Ack(key)
	if k == OpMajority {
		w.lastMajorityAcked.Store(id)
	}
	return o
}

// read reads the last acknowledged w:"majority" insert back: not finding it is a stale read
// (a deposed primary answering), recorded as an error saying so.
func (w *Workload) read(ctx context.Context, client int, store Store) Op {
	id := w.lastMajorityAcked.Load()
	o := Op{Kind: OpRead, Client: client, ID: id, Start: time.Now()}
	if id == 0 {
		id = 1
	}
	found, err := store.ReadID(ctx, id)
	o.End = time.Now()
	switch {
	case err != nil:
		o.Err = err.Error()
	case !found && o.ID != 0:
		o.Err = ErrStaleRead
	}
	return o
}

// ErrStaleRead is the error recorded for a read that missed an acknowledged w:"majority" write.
const ErrStaleRead = "stale read: an acknowledged w:\"majority\" insert was not found"

// Account compares the inserts with the ids read back (Store.IDs), w:"majority" and w:1 apart
// (told by their id: idBase).
func (w *Workload) Account(present map[int64]bool) (majority, w1 check.Accounting) {
	m, one := map[string]bool{}, map[string]bool{}
	for id, ok := range present {
		if !ok {
			continue
		}
		if id >= idBase(OpW1, 0) {
			one[strconv.FormatInt(id, 10)] = true
		} else {
			m[strconv.FormatInt(id, 10)] = true
		}
	}
	return w.Majority.Account(m), w.W1.Account(one)
}

// Stop ends every client and waits for the operations in flight.
func (w *Workload) Stop() {
	w.cancel()
	w.wg.Wait()
}
