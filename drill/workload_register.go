package drill

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/rsguard/rsguard/drill/check"
	"github.com/rsguard/rsguard/mongo"
)

// DefaultRegisterKey is the one register the register clients share by default: contention on
// one key is what a linearizability check needs.
const DefaultRegisterKey = "r"

// registerClient is one register client's state: the value it last read or set per key, the
// expected value of its next compare-and-set there.
type registerClient struct {
	c    int
	seen map[string]int64
}

// registerOp is one operation of a register client on a random key of o.RegisterKeys: a read
// (half of them, at a random level of o.RegisterReads), a write of a unique value (w:"majority",
// a fifth) or a compare-and-set from the value the client last saw (the rest). Every operation
// goes into the History; an error is a failed operation only when it certainly did not apply
// (RegisterOutcome), else of unknown outcome.
func (w *Workload) registerOp(ctx context.Context, rc *registerClient, seq int64, store Store, o WorkloadOptions) Op {
	key := o.RegisterKeys[rand.N(len(o.RegisterKeys))]
	var op check.Op
	switch r := rand.N(10); {
	case r < 5:
		op = check.Read(key)
	case r < 7:
		op = check.Write(key, w.nextValue.Add(1))
	default:
		op = check.CAS(key, rc.seen[key], w.nextValue.Add(1))
	}
	rec := Op{Kind: OpRegister, Client: rc.c, ID: seq, Start: time.Now()}
	id, berr := w.History.Begin(rc.c, op)
	var out check.Output
	var err error
	switch op.Kind {
	case check.OpRead:
		out.Value, err = store.ReadRegister(ctx, key, o.RegisterReads[rand.N(len(o.RegisterReads))])
		if err == nil {
			rc.seen[key] = out.Value
		}
	case check.OpWrite:
		err = store.WriteRegister(ctx, key, op.Value)
	case check.OpCAS:
		out.OK, err = store.CASRegister(ctx, key, op.Old, op.New)
		if err == nil && out.OK {
			rc.seen[key] = op.New
		}
	}
	if berr == nil {
		_ = w.History.End(id, out, err, RegisterOutcome)
	}
	rec.End = time.Now()
	if err != nil {
		rec.Err = err.Error()
	}
	return rec
}

// registerDefaults: one key, linearizable reads.
func registerDefaults(o WorkloadOptions) WorkloadOptions {
	if len(o.RegisterKeys) == 0 {
		o.RegisterKeys = []string{DefaultRegisterKey}
	}
	if len(o.RegisterReads) == 0 {
		o.RegisterReads = []mongo.ReadLevel{mongo.ReadLinearizable}
	}
	return o
}
