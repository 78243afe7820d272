package mongoemu

import (
	"context"
	"errors"
	"time"
)

// The state transitions that take the RSTL in X with the kill-op step
// (ReplicationCoordinator::OpsKillingStateTransitionEnum).
const (
	transitionStepDown = "stepDown"
	transitionStepUp   = "stepUp"
)

// errRSTLAbort is returned to the caller whose RSTL wait ended in the fatal assertion: the node
// is already aborting.
var errRSTLAbort = errors.New("aborting: the RSTL could not be acquired for a state transition")

// stopContext is a context that ends when the coordinator stops (or the node aborts); cancel
// frees it.
func (rc *replCoord) stopContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-rc.stopCh:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// acquireRSTLForTransition is mongod 7.0's AutoGetRstlForStepUpStepDown
// (repl/replication_coordinator_impl.cpp; repl/auto_get_rstl_for_stepup_stepdown.cpp on master):
//
//   - the deadline (zero: Date_t::max) is capped at fassertOnLockTimeoutForStepUpDown seconds
//     from now when that parameter is positive and the deadline lies further away;
//   - the RSTL is enqueued in X (at the front of the queue: new IX requests wait behind it),
//     and a kill-op "thread" interrupts conflicting operations every 10 ms until the wait ends;
//   - a wait that reaches the deadline fails with LockTimeout (24), unless the cap has been
//     reached, in which case the node logs 5675600 and aborts (fassert 7152000).
//
// op is the user operation asking (replSetStepDown, shutdown), nil for internal transitions. A
// stepdown also blocks session checkouts while it waits (ScopedBlockSessionCheckouts).
func (rc *replCoord) acquireRSTLForTransition(ctx context.Context, kind string, deadline time.Time, op *opCtx) (*lockRequest, error) {
	// mongod's Date_t has millisecond resolution: a deadline of exactly the cap (shutdown's
	// default timeoutSecs 15 against the default cap 15) is not capped, and its expiry is fatal.
	start := time.UnixMilli(time.Now().UnixMilli())
	capSecs := rc.n.params.intValue("fassertOnLockTimeoutForStepUpDown")
	capD := time.Duration(capSecs) * time.Second
	if !deadline.IsZero() {
		deadline = time.UnixMilli(deadline.UnixMilli())
	}
	if capSecs > 0 && (deadline.IsZero() || deadline.Sub(start) > capD) {
		deadline = start.Add(capD)
	}
	if kind == transitionStepDown {
		defer rc.n.ops.blockCheckouts()()
	}
	req := rc.n.locks.rstl.enqueue(modeX, true)
	stopKilling := rc.startKillOpThread(kind, op)
	// _lockComplete reports the timeout it computed when the wait began (Date_t is in ms).
	timeout := time.Duration(deadline.UnixMilli()-time.Now().UnixMilli()) * time.Millisecond
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-rc.stopCh:
			cancel()
		case <-wctx.Done():
		}
	}()
	err := req.wait(wctx, deadline)
	stopKilling()
	if err == nil {
		return req, nil
	}
	if !errors.Is(err, errLockDeadline) {
		return nil, err
	}
	if capSecs > 0 && time.UnixMilli(time.Now().UnixMilli()).Sub(start) >= capD {
		rc.n.events.emit("F", "REPL", 5675600,
			"Time out exceeded waiting for RSTL, stepUp/stepDown is not possible thus calling abort() to allow cluster to progress",
			[]any{"lockRep", rstlLockRep(time.Since(start))})
		rc.n.fassert(7152000, errRSTLAbort)
		return nil, errRSTLAbort
	}
	return nil, lockTimeoutError(rc.n.locks.rstl, modeX, timeout, op)
}

// rstlLockRep is the lock statistics report 5675600 carries (LockStats::report), as a JSON
// object in the log line.
func rstlLockRep(waited time.Duration) map[string]any {
	return map[string]any{"ReplicationStateTransition": map[string]any{
		"acquireCount":        map[string]any{"W": 1},
		"acquireWaitCount":    map[string]any{"W": 1},
		"timeAcquiringMicros": map[string]any{"W": waited.Microseconds()},
	}}
}

// startKillOpThread runs the RSTL kill-op loop (AutoGetRstlForStepUpStepDown::_killOpThreadFn):
// a pass at once, then every 10 ms, until the returned stop is called, which logs the metrics.
func (rc *replCoord) startKillOpThread(kind string, self *opCtx) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		rc.n.events.info("REPL", 21343, "Starting to kill user operations")
		totalKilled, running := 0, 0
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			var k int
			k, running = rc.n.ops.killConflicting(self)
			totalKilled += k
			select {
			case <-quit:
				rc.n.events.info("REPL", 21344, "Stopped killing user operations")
				rc.n.events.info("REPL", 21340, "State transition ops metrics", "metrics", map[string]any{
					"lastStateTransition": kind, "userOpsKilled": totalKilled, "userOpsRunning": running})
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}
