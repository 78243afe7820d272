package mongoemu

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// opCtx is one operation in flight on a client connection (mongod's OperationContext): what the
// kill-op step of a state transition looks at, and how it interrupts the operation.
type opCtx struct {
	id     int64
	connID int64
	desc   string // Client::desc, "conn12"
	name   string // the command
	cancel context.CancelCauseFunc
	// conflicting: the operation took the global lock in IX, S or X at some point
	// (Locker::wasGlobalLockTakenInModeConflictingWithWrites); never cleared.
	conflicting atomic.Bool
	// session: a retryable write (or transaction) has its session checked out.
	session atomic.Bool
	killed  atomic.Bool
}

type opKey struct{}

// opFrom returns the operation ctx belongs to, nil for internal work (heartbeats, the applier,
// the no-op writer), which a state transition never kills.
func opFrom(ctx context.Context) *opCtx {
	op, _ := ctx.Value(opKey{}).(*opCtx)
	return op
}

// opRegistry is the set of operations in flight (ServiceContext's client list) and the session
// checkout barrier a stepdown raises (ScopedBlockSessionCheckouts).
type opRegistry struct {
	mu      sync.Mutex
	ops     map[*opCtx]struct{}
	nextID  int64
	blocks  int
	unblock chan struct{} // closed when blocks drops to 0
}

func newOpRegistry() *opRegistry {
	return &opRegistry{ops: map[*opCtx]struct{}{}, unblock: make(chan struct{})}
}

// begin registers a command of connection connID; the returned ctx is cancelled with the kill
// reason when a state transition interrupts it. end must be called when the command is done.
func (g *opRegistry) begin(ctx context.Context, connID int64, name string) (context.Context, *opCtx, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	g.mu.Lock()
	g.nextID++
	op := &opCtx{id: g.nextID, connID: connID, desc: fmt.Sprintf("conn%d", connID), name: name, cancel: cancel}
	g.ops[op] = struct{}{}
	g.mu.Unlock()
	return context.WithValue(ctx, opKey{}, op), op, func() {
		g.mu.Lock()
		delete(g.ops, op)
		g.mu.Unlock()
		cancel(nil)
	}
}

// checkOutSession marks op as holding its session (a command with txnNumber), waiting while a
// stepdown blocks checkouts: such a write then waits for the stepdown's outcome instead of
// being killed by it (service_entry_point_common.cpp, session_catalog.cpp).
func (g *opRegistry) checkOutSession(ctx context.Context, op *opCtx) error {
	for {
		g.mu.Lock()
		if g.blocks == 0 {
			op.session.Store(true)
			g.mu.Unlock()
			return nil
		}
		ch := g.unblock
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return lockWaitError(context.Cause(ctx))
		}
	}
}

// blockCheckouts raises the barrier until the returned func is called.
func (g *opRegistry) blockCheckouts() func() {
	g.mu.Lock()
	g.blocks++
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.blocks--
			if g.blocks == 0 {
				close(g.unblock)
				g.unblock = make(chan struct{})
			}
			g.mu.Unlock()
		})
	}
}

// errReplStateChange is what an operation interrupted by a state transition fails with:
// OperationContext::checkForInterruptNoAssert's "operation was interrupted" with the kill reason
// InterruptedDueToReplStateChange (11602).
func errReplStateChange() error {
	return mongoerr.New(mongoerr.InterruptedDueToReplStateChange, "operation was interrupted")
}

// killConflicting is one pass of the RSTL kill-op thread (replication_coordinator_impl.cpp 7.0
// _killConflictingOpsOnStepUpAndStepDown, then killSessionsAbortUnpreparedTransactions): every
// user operation that took the global lock in a mode conflicting with writes, or has its session
// checked out, is interrupted with InterruptedDueToReplStateChange, except self (the operation
// asking for the RSTL). It returns how many it killed and how many it left running.
func (g *opRegistry) killConflicting(self *opCtx) (killed, running int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for op := range g.ops {
		if op == self || op.killed.Load() {
			continue
		}
		if op.conflicting.Load() || op.session.Load() {
			op.killed.Store(true)
			op.cancel(errReplStateChange())
			killed++
			continue
		}
		running++
	}
	return killed, running
}
