package mongoemu

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// The two global resources mongoemu models, named as mongod 7.0's ResourceId::toString prints
// them in LockTimeout messages: RESOURCE_GLOBAL (1) in the top 3 bits of the hash, then the
// ResourceGlobalId (kParallelBatchWriterMode 0, kFeatureCompatibilityVersion 1,
// kReplicationStateTransitionLock 2, kGlobal 3) — concurrency/lock_manager_defs.h.
const (
	rstlResourceName   = "{2305843009213693954: Global, 2}"
	globalResourceName = "{2305843009213693955: Global, 3}"
)

// errLockDeadline: a lock wait reached its deadline (the caller turns it into LockTimeout or,
// for a state transition past fassertOnLockTimeoutForStepUpDown, into an abort).
var errLockDeadline = errors.New("lock deadline passed")

// errShutdownInterrupt fails the lock waits of a node that is shutting down.
func errShutdownInterrupt() error {
	return mongoerr.New(mongoerr.InterruptedAtShutdown, "interrupted at shutdown")
}

// nodeLocks are the replication state transition lock (RSTL) and the global lock of one node.
// Every write takes the global lock in IX, and with it the RSTL in IX (d_concurrency.cpp
// GlobalLock::_takeGlobalAndRSTLLocks: the RSTL first, in IX whatever the global mode); a state
// transition takes the RSTL in X (replication_state_transition_lock_guard.cpp). fsyncLock and a
// blocking disk stall hold the global lock in S, so they hold the RSTL in IX for the whole locked
// period: no stepdown or stepup can complete meanwhile.
type nodeLocks struct {
	rstl   *lockResource
	global *lockResource

	mu    sync.Mutex
	holds map[string]*globalHold // fsyncLock / disk stall holders, by name
}

func newNodeLocks() *nodeLocks {
	return &nodeLocks{rstl: newLockResource(rstlResourceName), global: newLockResource(globalResourceName),
		holds: map[string]*globalHold{}}
}

// heldGlobal is a granted global lock and its RSTL intent.
type heldGlobal struct{ rstl, global *lockRequest }

func (h *heldGlobal) release() {
	h.global.unlock()
	h.rstl.unlock()
}

// lockGlobal takes the RSTL in IX then the global lock in mode for the operation in ctx, waiting
// as long as ctx allows (user operations have no lock deadline: mongod's maxLockTimeout is unset).
// Once granted in IX, S or X the operation counts as having taken the global lock in a mode
// conflicting with writes (LockerImpl::setGlobalLockTakenInMode), which makes it a target of
// the kill-op step of every later state transition.
func (l *nodeLocks) lockGlobal(ctx context.Context, mode lockMode) (*heldGlobal, error) {
	rstl := l.rstl.enqueue(modeIX, false)
	if err := rstl.wait(ctx, time.Time{}); err != nil {
		return nil, lockWaitError(err)
	}
	g := l.global.enqueue(mode, mode == modeS || mode == modeX)
	if err := g.wait(ctx, time.Time{}); err != nil {
		rstl.unlock()
		return nil, lockWaitError(err)
	}
	if op := opFrom(ctx); op != nil && mode != modeIS {
		op.conflicting.Store(true)
	}
	return &heldGlobal{rstl: rstl, global: g}, nil
}

// lockWaitError maps an interrupted wait to the operation's error: its kill reason, or
// MaxTimeMSExpired for an expired maxTimeMS.
func lockWaitError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return mongoerr.New(mongoerr.MaxTimeMSExpired, "operation exceeded time limit")
	}
	return err
}

// lockTimeoutError is LockerImpl::_lockComplete's LockTimeout (24) message.
func lockTimeoutError(res *lockResource, mode lockMode, timeout time.Duration, op *opCtx) error {
	msg := fmt.Sprintf("Unable to acquire %s lock on '%s' within %dms.", mode, res.name, timeout.Milliseconds())
	if op != nil {
		msg += fmt.Sprintf(" opId: %d, op: %s, connId: %d.", op.id, op.desc, op.connID)
	}
	return mongoerr.New(mongoerr.LockTimeout, "%s", msg)
}

// globalHold is a global S lock held on behalf of fsyncLock or the blocking disk stall, by a
// system "thread" that no state transition kills (fsync.cpp FSyncLockThread runs on its own
// client, which the RSTL kill-op thread skips).
type globalHold struct {
	cancel context.CancelFunc
	done   chan struct{}
	held   *heldGlobal
}

// hold takes the global lock in S for name until unhold(name). With wait it returns once the
// lock is held (fsyncLock replies only then); otherwise the acquisition goes on in the
// background (a fail point turned on while writes are in flight). A second hold is a no-op.
func (l *nodeLocks) hold(ctx context.Context, name string, wait bool) error {
	l.mu.Lock()
	if _, ok := l.holds[name]; ok {
		l.mu.Unlock()
		return nil
	}
	hctx, cancel := context.WithCancel(context.Background())
	h := &globalHold{cancel: cancel, done: make(chan struct{})}
	l.holds[name] = h
	l.mu.Unlock()
	var err error
	go func() {
		defer close(h.done)
		h.held, err = l.lockGlobal(hctx, modeS)
	}()
	if !wait {
		return nil
	}
	select {
	case <-h.done:
	case <-ctx.Done():
		l.unhold(name)
		return lockWaitError(context.Cause(ctx))
	}
	if err != nil {
		l.unhold(name)
	}
	return err
}

// unhold releases (or stops acquiring) the hold of name.
func (l *nodeLocks) unhold(name string) {
	l.mu.Lock()
	h := l.holds[name]
	delete(l.holds, name)
	l.mu.Unlock()
	if h == nil {
		return
	}
	h.cancel()
	<-h.done
	if h.held != nil {
		h.held.release()
	}
}

// releaseAll drops every hold (clean shutdown: mongod's fsync shutdown task unlocks first).
func (l *nodeLocks) releaseAll() {
	l.mu.Lock()
	names := make([]string, 0, len(l.holds))
	for name := range l.holds {
		names = append(names, name)
	}
	l.mu.Unlock()
	for _, name := range names {
		l.unhold(name)
	}
}

// shut fails every lock wait, present and future (abort or shutdown).
func (l *nodeLocks) shut(err error) {
	l.rstl.shut(err)
	l.global.shut(err)
}
