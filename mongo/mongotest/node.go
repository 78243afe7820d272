// Package mongotest is a fake mongo.Node for supervisor and recovery tests: replies are set by the
// test, errors injected per command, and every call is recorded. It models no replica-set
// behaviour beyond storing a reconfigured config; use OnCall to script reactions (a stepdown
// turning hello non-writable, say). For the real thing over the wire, see mongoemu.
package mongotest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/rsguard/rsguard/mongo"
)

// Op names a Node method by the command it runs.
type Op string

// Ops.
const (
	OpHello        Op = "hello"
	OpStatus       Op = "replSetGetStatus"
	OpConfig       Op = "replSetGetConfig"
	OpStepDown     Op = "replSetStepDown"
	OpStepUp       Op = "replSetStepUp"
	OpFreeze       Op = "replSetFreeze"
	OpAbortCatchUp Op = "replSetAbortPrimaryCatchUp"
	OpReconfig     Op = "replSetReconfig"
	OpWriteProbe   Op = "write probe"
	OpJournalProbe Op = "journal probe"
	OpShutdown     Op = "shutdown"
)

// Call records one method call and its arguments.
type Call struct {
	Op         Op
	Secs       int           // StepDown, Freeze
	CatchUp    time.Duration // StepDown
	Force      bool          // StepDown, Reconfig, Shutdown
	SkipDryRun bool          // StepUp
	Timeout    time.Duration // Shutdown
	Config     mongo.ReplConfig
	ProbeID    string
}

// Node is the fake. The zero value is not usable; call New.
type Node struct {
	mu      sync.Mutex
	addr    string
	hello   mongo.Hello
	status  mongo.Status
	config  mongo.ReplConfig
	latency time.Duration
	fail    map[Op]error
	failAll error
	onCall  func(Call) error
	calls   []Call
	closed  bool
	// changed is closed (and replaced) whenever Fail or FailAll changes what calls get: a call
	// hanging on Hang waits for it.
	changed chan struct{}
}

var _ mongo.Node = (*Node)(nil)

// New returns a fake for the mongod at addr.
func New(addr string) *Node {
	return &Node{addr: addr, fail: map[Op]error{}, changed: make(chan struct{})}
}

// changedLocked wakes the calls hanging on Hang: they look again at what they should get.
func (n *Node) changedLocked() { close(n.changed); n.changed = make(chan struct{}) }

// SetHello sets the hello reply.
func (n *Node) SetHello(h mongo.Hello) { n.mu.Lock(); n.hello = h; n.mu.Unlock() }

// SetStatus sets the replSetGetStatus reply.
func (n *Node) SetStatus(s mongo.Status) { n.mu.Lock(); n.status = s; n.mu.Unlock() }

// SetConfig sets the replSetGetConfig reply.
func (n *Node) SetConfig(c mongo.ReplConfig) { n.mu.Lock(); n.config = c; n.mu.Unlock() }

// SetProbeLatency sets what WriteProbe reports.
func (n *Node) SetProbeLatency(d time.Duration) { n.mu.Lock(); n.latency = d; n.mu.Unlock() }

// Fail makes op return err (wrapped like the driver node's errors); nil clears it.
func (n *Node) Fail(op Op, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	defer n.changedLocked()
	if err == nil {
		delete(n.fail, op)
		return
	}
	n.fail[op] = err
}

// FailAll makes every op return err, as a dead or unreachable mongod would; nil clears it.
func (n *Node) FailAll(err error) {
	n.mu.Lock()
	n.failAll = err
	n.changedLocked()
	n.mu.Unlock()
}

// OnCall runs f for every call after it is recorded and before the reply is built, outside the
// fake's lock so that f may call the setters. A non-nil error from f is returned by the call.
func (n *Node) OnCall(f func(Call) error) { n.mu.Lock(); n.onCall = f; n.mu.Unlock() }

// Calls returns the recorded calls in order.
func (n *Node) Calls() []Call { n.mu.Lock(); defer n.mu.Unlock(); return slices.Clone(n.calls) }

// CallsOf returns the recorded calls of op.
func (n *Node) CallsOf(op Op) []Call {
	var out []Call
	for _, c := range n.Calls() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Closed reports whether Close was called.
func (n *Node) Closed() bool { n.mu.Lock(); defer n.mu.Unlock(); return n.closed }

// Addr returns the address given to New.
func (n *Node) Addr() string { return n.addr }

// call records c and returns the error the test arranged for it, if any.
func (n *Node) call(ctx context.Context, c Call) error {
	n.mu.Lock()
	n.calls = append(n.calls, c)
	var err error
	var hook func(Call) error
	for {
		err = n.failAll
		if e, ok := n.fail[c.Op]; ok && err == nil {
			err = e
		}
		hook = n.onCall
		if !errors.Is(err, errHang) {
			break
		}
		// No answer until the hang is lifted (the request then goes through, as TCP delivers
		// it after a blip) or the caller's deadline: a real call to a silent mongod.
		changed := n.changed
		n.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s on %s: %w", c.Op, n.addr, ctx.Err())
		case <-changed:
		}
		n.mu.Lock()
	}
	n.mu.Unlock()
	if err == nil {
		err = ctx.Err()
	}
	if err == nil && hook != nil {
		err = hook(c)
	}
	if err != nil {
		return fmt.Errorf("%s on %s: %w", c.Op, n.addr, err)
	}
	return nil
}

// Hello returns the hello set by SetHello.
func (n *Node) Hello(ctx context.Context) (mongo.Hello, error) {
	if err := n.call(ctx, Call{Op: OpHello}); err != nil {
		return mongo.Hello{}, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.hello, nil
}

// Status returns the status set by SetStatus.
func (n *Node) Status(ctx context.Context) (mongo.Status, error) {
	if err := n.call(ctx, Call{Op: OpStatus}); err != nil {
		return mongo.Status{}, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.status, nil
}

// Config returns the config set by SetConfig or installed by Reconfig.
func (n *Node) Config(ctx context.Context) (mongo.ReplConfig, error) {
	if err := n.call(ctx, Call{Op: OpConfig}); err != nil {
		return mongo.ReplConfig{}, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.config.Clone(), nil
}

// StepDown records the call.
func (n *Node) StepDown(ctx context.Context, secs int, catchUp time.Duration, force bool) error {
	return n.call(ctx, Call{Op: OpStepDown, Secs: secs, CatchUp: catchUp, Force: force})
}

// StepUp records the call.
func (n *Node) StepUp(ctx context.Context, skipDryRun bool) error {
	return n.call(ctx, Call{Op: OpStepUp, SkipDryRun: skipDryRun})
}

// AbortCatchUp records the call.
func (n *Node) AbortCatchUp(ctx context.Context) error {
	return n.call(ctx, Call{Op: OpAbortCatchUp})
}

// Freeze records the call.
func (n *Node) Freeze(ctx context.Context, secs int) error {
	return n.call(ctx, Call{Op: OpFreeze, Secs: secs})
}

// Reconfig records the call and installs cfg.Bumped() as the config.
func (n *Node) Reconfig(ctx context.Context, cfg mongo.ReplConfig, force bool) error {
	next, err := cfg.Bumped()
	if err != nil {
		return fmt.Errorf("%s on %s: %w", OpReconfig, n.addr, err)
	}
	if err := n.call(ctx, Call{Op: OpReconfig, Config: next, Force: force}); err != nil {
		return err
	}
	n.mu.Lock()
	n.config = next
	n.mu.Unlock()
	return nil
}

// WriteProbe records the call and returns the latency set by SetProbeLatency.
func (n *Node) WriteProbe(ctx context.Context, id string) (time.Duration, error) {
	err := n.call(ctx, Call{Op: OpWriteProbe, ProbeID: id})
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.latency, err
}

// JournalProbe records the call and returns the latency set by SetProbeLatency.
func (n *Node) JournalProbe(ctx context.Context, id string) (time.Duration, error) {
	err := n.call(ctx, Call{Op: OpJournalProbe, ProbeID: id})
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.latency, err
}

// Shutdown records the call.
func (n *Node) Shutdown(ctx context.Context, force bool, timeout time.Duration) error {
	return n.call(ctx, Call{Op: OpShutdown, Force: force, Timeout: timeout})
}

// Close marks the fake closed.
func (n *Node) Close(context.Context) error { n.mu.Lock(); n.closed = true; n.mu.Unlock(); return nil }

// Refused is the error a dial to a closed port gives; mongo.Classify reads it as refused.
func Refused(addr string) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: fakeAddr(addr),
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

// Timeout is the error of a call that got no answer in time; mongo.Classify reads it as timeout.
// The call fails at once; Hang makes it take its deadline.
func Timeout() error { return context.DeadlineExceeded }

var errHang = errors.New("mongotest: no answer")

// Hang, given to Fail or FailAll, makes calls wait, as calls to a frozen process or over a dropped
// link do: until the next Fail or FailAll (then they get what that says: nil lets them through,
// as TCP delivers a request after a blip) or until their context ends (its error, a timeout).
func Hang() error { return errHang }

// CommandError is a server reply with ok:0.
func CommandError(code int, codeName, msg string) *mongo.CommandError {
	return &mongo.CommandError{Code: code, CodeName: codeName, Msg: msg}
}

// WriteConcernError is a writeConcernError, e.g. WriteConcernFailed (64) after wtimeout.
func WriteConcernError(code int, codeName, msg string) *mongo.CommandError {
	return &mongo.CommandError{Code: code, CodeName: codeName, Msg: msg, WriteConcern: true}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }
