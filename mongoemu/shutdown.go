package mongoemu

import (
	"context"
	"net"
	"os"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// defaultShutdownTimeout is the shutdown command's timeoutSecs default (5.0+, spec §6.9).
const defaultShutdownTimeout = 15 * time.Second

// shutdownRequest is one request to stop cleanly: the command or a signal.
type shutdownRequest struct {
	force   bool
	timeout time.Duration // primary stepdown wait, then the quiesce period of a secondary
}

// cmdShutdown is {shutdown: 1, force, timeoutSecs} (spec §6.9). A shutdown that goes ahead never
// replies: the client sees its connection close, as with mongod.
func (n *Node) cmdShutdown(ctx context.Context, r *request) (bson.D, error) {
	if !isLoopback(r.c.nc.RemoteAddr()) {
		return nil, mongoerr.New(mongoerr.Unauthorized, "shutdown must run from localhost when running db without auth")
	}
	force, err := r.boolArg("force")
	if err != nil {
		return nil, err
	}
	req := shutdownRequest{force: force, timeout: defaultShutdownTimeout}
	secs, has, err := r.intArg("timeoutSecs")
	if err != nil {
		return nil, err
	}
	if has {
		if secs < 0 {
			return nil, mongoerr.New(mongoerr.BadValue, "timeoutSecs must be non-negative")
		}
		req.timeout = time.Duration(secs) * time.Second
	}
	n.events.info("COMMAND", 4695400, "Terminating via shutdown command", "force", force, "timeoutSecs", int64(req.timeout/time.Second))
	if err := n.shutdown(ctx, req); err != nil {
		return nil, err
	}
	return nil, &mongoerr.Error{Code: mongoerr.InterruptedAtShutdown, Msg: "interrupted at shutdown", CloseConnection: true}
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// ShutdownSignaled is the clean stop on SIGTERM/SIGINT: like {shutdown: 1, force: true} with
// timeoutSecs = shutdownTimeoutMillisForSignaledShutdown. It returns once the node has stopped.
func (n *Node) ShutdownSignaled(sig os.Signal) {
	num := 0
	if s, ok := sig.(syscall.Signal); ok {
		num = int(s)
	}
	n.events.info("CONTROL", 23377, "Received signal", "signal", num, "error", sig.String())
	n.events.info("CONTROL", 23381, "will terminate after current cmd ends")
	timeout := n.params.duration("shutdownTimeoutMillisForSignaledShutdown", time.Millisecond)
	// The fsync shutdown task runs before the stepdown of shutdownTask (shutdown tasks run last
	// registered first, util/exit.cpp; commands/fsync.cpp registers its own): a signaled
	// fsyncLocked primary unlocks, then steps down.
	n.fsync.release()
	_ = n.shutdown(context.Background(), shutdownRequest{force: true, timeout: timeout})
	<-n.done
}

// shutdown runs mongod's shutdown sequence (db.cpp shutdownTask): a primary first tries to step
// down (failure aborts the shutdown unless forced); then, if it is a secondary, the node enters
// quiesce for what is left of the timeout (enterQuiesceModeIfSecondary): hello fails with
// ShutdownInProgress while the listeners stay open and other commands, on old and new
// connections, keep working; only then does the transport layer shut down and the node stop.
// It returns once the stop has begun; a second request joins the first.
func (n *Node) shutdown(ctx context.Context, req shutdownRequest) error {
	if n.shutdownStarted.Load() {
		<-n.quit
		return nil
	}
	stepDownStart := time.Now()
	if err := n.shutdownStepDown(ctx, req.timeout); err != nil {
		if !req.force {
			n.events.warn("COMMAND", 4695100, "Error stepping down during shutdown", "error", err.Error())
			return err
		}
		n.events.warn("COMMAND", 4695100, "Error stepping down during force shutdown", "error", err.Error())
	}
	if !n.shutdownStarted.CompareAndSwap(false, true) {
		<-n.quit
		return nil
	}
	// db.cpp: the quiesce period is the shutdown timeout minus the time the stepdown took.
	quiesce := time.Duration(0)
	n.mu.Lock()
	if n.repl != nil && n.repl.stateLocked() == stateSecondary {
		quiesce = max(0, req.timeout-time.Since(stepDownStart))
		n.quiesceUntil.Store(time.Now().Add(quiesce).UnixNano())
	}
	// Entering quiesce is a topology change: awaitable hellos wake up and see the error.
	n.bumpTopology()
	n.mu.Unlock()
	if quiesce > 0 {
		n.events.info("REPL", 4695102, "Entering quiesce mode for shutdown", "quiesceTimeMillis", quiesce.Milliseconds())
		t := time.NewTimer(quiesce)
		select {
		case <-t.C:
		case <-n.quit:
		}
		t.Stop()
		n.events.info("REPL", 4695103, "Exiting quiesce mode for shutdown")
	}
	n.closeListeners() // the transport layer shuts down after quiesce, not before
	n.events.info("CONTROL", 23138, "Shutting down", "exitCode", 0)
	// Stop waits for every connection goroutine, the caller's included, so it cannot run on it.
	go n.Stop(nil)
	<-n.quit
	return nil
}

// shutdownStepDown makes a primary step down before shutting down, waiting up to timeout for
// an electable caught-up secondary (spec §6.9). Other members have nothing to do.
func (n *Node) shutdownStepDown(ctx context.Context, timeout time.Duration) error {
	if n.repl == nil {
		return nil
	}
	return n.repl.stepDownForShutdown(ctx, timeout)
}

// remainingQuiesce is what hello reports as remainingQuiesceTimeMillis
// (ReplicationCoordinatorImpl::_calculateRemainingQuiesceTimeMillis): never negative.
func (n *Node) remainingQuiesce() time.Duration {
	until := n.quiesceUntil.Load()
	if until == 0 {
		return 0
	}
	return max(0, time.Until(time.Unix(0, until)))
}

// stopping reports that Stop has begun: from then on new connections are refused.
func (n *Node) stopping() bool {
	select {
	case <-n.quit:
		return true
	default:
		return false
	}
}
