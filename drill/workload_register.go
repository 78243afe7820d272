package drill

import (
	"context"
	"time"

	"github.com/rsguard/rsguard/drill/check"
)

// registerKey is the one register the register clients share: contention on one key is what
// a linearizability check needs.
const registerKey = "r"

// registerOp is one operation of register client c: writes (a unique value, w:"majority") and
// linearizable reads alternate. Every operation goes into the History; an error leaves the
// outcome unknown (the nil classifier): a retried write may have committed.
func (w *Workload) registerOp(ctx context.Context, c int, seq int64, store Store) Op {
	o := Op{Kind: OpRegister, Client: c, ID: seq, Start: time.Now()}
	var err error
	if seq%2 == 1 {
		v := int64(c+1)*1_000_000_000 + seq
		id, berr := w.History.Begin(c, check.Write(registerKey, v))
		err = store.WriteRegister(ctx, registerKey, v)
		if berr == nil {
			_ = w.History.End(id, check.Output{}, err, nil)
		}
	} else {
		id, berr := w.History.Begin(c, check.Read(registerKey))
		var v int64
		v, err = store.ReadRegister(ctx, registerKey)
		if berr == nil {
			_ = w.History.End(id, check.Output{Value: v}, err, nil)
		}
	}
	o.End = time.Now()
	if err != nil {
		o.Err = err.Error()
	}
	return o
}
