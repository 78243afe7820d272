package mongoemu

import (
	"errors"
	"fmt"
)

// FatalAssertion is the exit error of a node that hit one of mongod's fatal assertions
// (fassertFailed: util/assert_util.cpp logs "Fatal assertion" and calls std::abort()). The
// process must end at once with SIGABRT, as mongod does: cmd/mongoemu does that.
type FatalAssertion struct {
	MsgID int   // the fassert id, e.g. 7152000 after the RSTL timeout
	Err   error // what went wrong
}

func (e *FatalAssertion) Error() string {
	return fmt.Sprintf("fatal assertion %d: %v", e.MsgID, e.Err)
}

func (e *FatalAssertion) Unwrap() error { return e.Err }

// IsFatalAssertion reports whether err (from Serve) is a fatal assertion.
func IsFatalAssertion(err error) bool {
	var fa *FatalAssertion
	return errors.As(err, &fa)
}

// fassert logs mongod's fassertFailed lines and aborts the node.
func (n *Node) fassert(msgID int, err error) {
	n.events.emit("F", "ASSERT", 23089, "Fatal assertion", []any{"msgid", msgID, "file", "src/mongo/db/repl/replication_coordinator_impl.cpp"})
	n.events.emit("F", "ASSERT", 23090, "\n\n***aborting after fassert() failure\n\n", nil)
	n.abort(&FatalAssertion{MsgID: msgID, Err: err})
}

// abort is the end of a process that calls abort(): from this instant nothing answers — the
// listeners and every connection (client and internal, incoming and outgoing) close, no loop
// sends another heartbeat, every lock wait fails — and Serve returns err without waiting for
// goroutines that are stuck (a write blocked in storage, a no-op writer waiting for the global
// lock). Unlike Stop there is no clean shutdown: no log line after the fatal ones, no stepdown.
// In-process, the stuck goroutines are drained in the background and the store closed after
// them, so a test can still observe Done.
func (n *Node) abort(err error) {
	n.stopOnce.Do(func() {
		n.beginStop(err)
		close(n.aborted)
		n.closeListeners()
		n.conns.closeAll() // before the lock waits fail: no reply may go out
		if n.repl != nil {
			close(n.repl.stopCh)
			n.repl.hb.closeAll()
			n.repl.up.closeAll()
		}
		n.locks.shut(err)
		go func() {
			// The process is gone; what follows only frees the in-process resources.
			n.store.SetWriteBlocked(false)
			n.store.SetWriteDelay(0)
			if n.repl != nil {
				n.repl.wg.Wait()
			}
			n.wg.Wait()
			n.cursors.closeAll()
			_ = n.store.Close()
			n.events.close()
			close(n.done)
		}()
	})
}

// Aborted is closed once the node has aborted (a fatal assertion).
func (n *Node) Aborted() <-chan struct{} { return n.aborted }
