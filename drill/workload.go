package drill

import (
	"context"
	"slices"
	"sync"
	"time"
)

// OpKind is what a workload operation did.
type OpKind string

// Operation kinds, one per workload.
const (
	OpMajority OpKind = "majority" // insert with w:"majority"
	OpW1       OpKind = "w1"       // insert with w:1
	OpRead     OpKind = "read"     // read by _id from the primary, majority read concern
	OpRegister OpKind = "register" // register write (w:"majority") or linearizable read
)

// Op is one operation of a workload: when it was sent, when it ended and how.
type Op struct {
	Kind   OpKind    `json:"kind"`
	Client int       `json:"client"`
	ID     int64     `json:"id"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Err    string    `json:"err,omitempty"`
}

// OK is true for an acknowledged operation.
func (o Op) OK() bool { return o.Err == "" }

// Recorder keeps every operation of every workload. Safe for concurrent use.
type Recorder struct {
	mu  sync.Mutex
	ops []Op
}

// Add records one ended operation.
func (r *Recorder) Add(o Op) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, o)
}

// Ops returns a copy of the operations recorded so far, in the order they ended.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

// Acked counts acknowledged operations of kind k.
func (r *Recorder) Acked(k OpKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, o := range r.ops {
		if o.Kind == k && o.OK() {
			n++
		}
	}
	return n
}

// loop runs op every period until ctx ends; an operation in flight when ctx ends is neither
// acknowledged nor a failure worth reporting, so it is not recorded.
func loop(ctx context.Context, period, timeout time.Duration, op func(ctx context.Context, seq int64) Op, rec *Recorder) {
	t := time.NewTicker(period)
	defer t.Stop()
	for seq := int64(1); ; seq++ {
		octx, cancel := context.WithTimeout(ctx, timeout)
		o := op(octx, seq)
		cancel()
		if ctx.Err() != nil {
			return
		}
		rec.Add(o)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
