package check

import (
	"fmt"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// Outcome is how an operation ended.
type Outcome int

const (
	// OutcomeOK: the server answered; the Output is what it said.
	OutcomeOK Outcome = iota + 1
	// OutcomeFailed: the operation certainly had no effect (rejected before
	// it was applied). It is left out of the history.
	OutcomeFailed
	// OutcomeUnknown: it may or may not have taken effect (timeout, network
	// error after sending, write concern error). Its return is the end of
	// the history.
	OutcomeUnknown
)

func (o Outcome) String() string {
	switch o {
	case OutcomeOK:
		return "ok"
	case OutcomeFailed:
		return "failed"
	case OutcomeUnknown:
		return "unknown"
	default:
		return fmt.Sprintf("Outcome(%d)", int(o))
	}
}

// Classifier tells whether an error certainly means "not applied"
// (OutcomeFailed). Anything it cannot be sure of must be OutcomeUnknown; a
// nil Classifier, or one returning anything other than OutcomeFailed, makes
// every error unknown.
type Classifier func(err error) Outcome

// CallID identifies one operation begun in a History.
type CallID int

// HistoryOptions configures a History.
type HistoryOptions struct {
	// Clock returns a monotonic timestamp; nil uses time elapsed since
	// NewHistory. Tests pass a counter.
	Clock func() int64
}

type call struct {
	client  int
	op      Op
	begin   int64
	end     int64
	out     Output
	outcome Outcome // 0 while pending
	err     string
}

// History records the operations of concurrent clients. It is safe for
// concurrent use.
type History struct {
	mu    sync.Mutex
	clock func() int64
	calls []call
}

// NewHistory returns an empty History.
func NewHistory(opts HistoryOptions) *History {
	clock := opts.Clock
	if clock == nil {
		start := time.Now()
		clock = func() int64 { return int64(time.Since(start)) }
	}
	return &History{clock: clock}
}

// Begin records that client (0-based, for the visualization) invokes op, just
// before it is sent.
func (h *History) Begin(client int, op Op) (CallID, error) {
	if err := op.validate(); err != nil {
		return 0, err
	}
	if client < 0 {
		return 0, fmt.Errorf("client %d: must be >= 0", client)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, call{client: client, op: op, begin: h.clock()})
	return CallID(len(h.calls) - 1), nil
}

// End records how the call ended, as soon as the answer (or error) arrives.
// With err == nil the outcome is OK and out is the answer; otherwise classify
// decides between failed and unknown (see Classifier).
func (h *History) End(id CallID, out Output, err error, classify Classifier) error {
	outcome := OutcomeOK
	msg := ""
	if err != nil {
		msg = err.Error()
		outcome = OutcomeUnknown
		if classify != nil && classify(err) == OutcomeFailed {
			outcome = OutcomeFailed
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if id < 0 || int(id) >= len(h.calls) {
		return fmt.Errorf("call id %d: not begun in this history", id)
	}
	c := &h.calls[id]
	if c.outcome != 0 {
		return fmt.Errorf("call id %d (%s): already ended (%s)", id, c.op, c.outcome)
	}
	c.end = h.clock()
	c.outcome = outcome
	c.err = msg
	if outcome == OutcomeOK {
		c.out = out
	} else {
		c.out = Output{Unknown: true}
	}
	return nil
}

// Counts summarises a history.
type Counts struct {
	Ops, OK, Failed, Unknown, Pending int
}

// Operations returns the history as porcupine operations: failed operations
// and reads of unknown outcome are left out (they had no effect); unknown
// and still-pending writes and CASes return after every other event.
func (h *History) Operations() ([]porcupine.Operation, Counts) {
	h.mu.Lock()
	calls := append([]call(nil), h.calls...)
	h.mu.Unlock()

	var n Counts
	last := int64(0)
	for _, c := range calls {
		last = max(last, c.begin, c.end)
	}
	ops := make([]porcupine.Operation, 0, len(calls))
	for i, c := range calls {
		n.Ops++
		switch c.outcome {
		case OutcomeOK:
			n.OK++
		case OutcomeFailed:
			n.Failed++
			continue
		case OutcomeUnknown:
			n.Unknown++
		default:
			n.Pending++
			c.out = Output{Unknown: true}
			c.err = "pending at check time"
		}
		ret := c.end
		if c.out.Unknown {
			if c.op.Kind == OpRead {
				continue
			}
			ret = last + 1
		}
		ops = append(ops, porcupine.Operation{
			ClientId: c.client,
			Input:    c.op,
			Call:     c.begin,
			Output:   c.out,
			Return:   ret,
			Metadata: meta{Call: CallID(i), Err: c.err},
		})
	}
	return ops, n
}

// meta is the porcupine metadata of an operation: its call id (identity in
// explanations) and the error it ended with, if any.
type meta struct {
	Call CallID
	Err  string
}

func (m meta) String() string {
	if m.Err == "" {
		return fmt.Sprintf("call %d", m.Call)
	}
	return fmt.Sprintf("call %d: %s", m.Call, m.Err)
}
