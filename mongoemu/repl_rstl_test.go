package mongoemu

import (
	"context"
	"errors"
	"net"
	"regexp"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// rstlTimeoutMsg is LockerImpl::_lockComplete's message for the RSTL (locker_impl.cpp; the
// ResourceId as lock_manager_defs.h 7.0 numbers it).
var rstlTimeoutMsg = regexp.MustCompile(`^Unable to acquire X lock on '\{2305843009213693954: Global, 2\}' within (\d+)ms\. opId: \d+, op: conn\d+, connId: \d+\.$`)

func fsyncLockNode(t *testing.T, c *mongo.Client) {
	t.Helper()
	if _, err := runAdmin(t, c, bson.D{{Key: "fsync", Value: 1}, {Key: "lock", Value: true}}); err != nil {
		t.Fatalf("fsyncLock: %v", err)
	}
}

func isWritable(t *testing.T, c *mongo.Client) bool {
	t.Helper()
	h, err := runAdmin(t, c, bson.D{{Key: "hello", Value: 1}})
	return err == nil && boolean(h, "isWritablePrimary")
}

// TestRSTLStepDownOfFsyncLockedPrimaryTimesOut: fsyncLock holds the RSTL in IX, so replSetStepDown
// cannot take it in X. Its deadline is secondaryCatchUpPeriodSecs (10 s by default), or with force
// the stepdown period (replication_coordinator_impl.cpp stepDown), both under the 15 s cap; the
// answer is LockTimeout (24) with
// mongod's message, and the primary stays writable. Before the RSTL existed the stepdown
// succeeded at once under fsyncLock.
func TestRSTLStepDownOfFsyncLockedPrimaryTimesOut(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	fsyncLockNode(t, ts.clients[p])
	for _, tc := range []struct {
		name string
		cmd  bson.D
		want time.Duration
	}{
		{"catch-up period", bson.D{{Key: "replSetStepDown", Value: 60}, {Key: "secondaryCatchUpPeriodSecs", Value: 1}}, time.Second},
		{"force: stepdown period", bson.D{{Key: "replSetStepDown", Value: 2}, {Key: "force", Value: true}}, 2 * time.Second},
	} {
		start := time.Now()
		_, err := runAdmin(t, ts.clients[p], tc.cmd)
		took := time.Since(start)
		var ce mongo.CommandError
		if !errors.As(err, &ce) || ce.Code != 24 || ce.Name != "LockTimeout" {
			t.Fatalf("%s: want LockTimeout (24), got %v", tc.name, err)
		}
		m := rstlTimeoutMsg.FindStringSubmatch(ce.Message)
		if m == nil || (m[1] != "1000" && m[1] != "999" && m[1] != "2000" && m[1] != "1999") {
			t.Fatalf("%s: message %q", tc.name, ce.Message)
		}
		// The server's deadline starts when it reads the command, a little after our clock.
		if took < tc.want-50*time.Millisecond || took > tc.want+2*time.Second {
			t.Fatalf("%s: answered after %v, want about %v", tc.name, took, tc.want)
		}
		t.Logf("%s: LockTimeout after %v: %s", tc.name, took, ce.Message)
		if !isWritable(t, ts.clients[p]) {
			t.Fatalf("%s: the primary is not writable after the failed stepdown", tc.name)
		}
	}
	if _, err := runAdmin(t, ts.clients[p], bson.D{{Key: "fsyncUnlock", Value: 1}}); err != nil {
		t.Fatal(err)
	}
}

// TestRSTLCapAbortsTheNode: when the stepdown's deadline lies beyond
// fassertOnLockTimeoutForStepUpDown (set at runtime, like setParameter on mongod), the wait is
// capped and its end is fatal: log 5675600, then the node is gone at once — the command's
// connection closes, Serve returns the fatal assertion, the port refuses connections.
func TestRSTLCapAbortsTheNode(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	c := ts.clients[p]
	if _, err := runAdmin(t, c, bson.D{{Key: "setParameter", Value: 1}, {Key: "fassertOnLockTimeoutForStepUpDown", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	fsyncLockNode(t, c)
	start := time.Now()
	_, err := runAdmin(t, c, bson.D{{Key: "replSetStepDown", Value: 60}, {Key: "secondaryCatchUpPeriodSecs", Value: 5}})
	if !mongo.IsNetworkError(err) {
		t.Fatalf("replSetStepDown past the cap: want the connection to close, got %v", err)
	}
	select {
	case err := <-ts.nodes[p].errc:
		if !IsFatalAssertion(err) {
			t.Fatalf("Serve returned %v, want the fatal assertion", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the abort")
	}
	took := time.Since(start)
	if took < time.Second || took > 3*time.Second {
		t.Fatalf("aborted after %v, want about the 1 s cap", took)
	}
	if nc, err := net.DialTimeout("tcp", ts.nodes[p].Addr(), time.Second); err == nil {
		_ = nc.Close()
		t.Fatal("the aborted node still accepts connections")
	}
	t.Logf("aborted %v after replSetStepDown", took)
}

// TestRSTLNewTermKillsRetryableWriteThenAborts: an fsyncLocked primary learns of a newer term
// (another member stepped up). Its stepdown enqueues the RSTL in X and the kill-op step
// interrupts the retryable write blocked behind fsyncLock — its session is checked out
// (killSessionsAbortUnpreparedTransactions) — with InterruptedDueToReplStateChange (11602); the
// driver retries it on the new primary. A write without a session is not killed: it waits for
// the global lock until the node aborts at the cap, and sees its connection close. Before, 11602
// was never sent, the writes stayed blocked, and the 15 s abort left a half-stopped node.
func TestRSTLNewTermKillsRetryableWriteThenAborts(t *testing.T) {
	ts := startTestSetWith(t, 3, 0, fastSettings, Options{Parameters: map[string]string{"fassertOnLockTimeoutForStepUpDown": "3"}})
	p := ts.waitPrimary(20 * time.Second)
	set := ts.setClient(t)
	ctx := testCtx(t)
	if _, err := set.Database("test").Collection("rstl").InsertOne(ctx, bson.D{{Key: "_id", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	// The candidate must hold what the voters hold, or they refuse it (spec §5.3).
	ts.waitCaughtUp(p, 0, 1, 2)
	fsyncLockNode(t, ts.clients[p])

	type result struct {
		err error
		at  time.Time
	}
	retryable := make(chan result, 1)
	go func() { // through the set, retryWrites on (the driver's default)
		_, err := set.Database("test").Collection("rstl").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
		retryable <- result{err, time.Now()}
	}()
	raw := make(chan result, 1)
	noRetry := ts.nodes[p].client(t, options.Client().SetRetryWrites(false))
	go func() { // a retryable write as sent on the wire, to see the server's error itself
		err := noRetry.Database("test").RunCommand(ctx, bson.D{{Key: "insert", Value: "rstl"},
			{Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: 2}}}}, {Key: "txnNumber", Value: int64(1)}}).Err()
		raw <- result{err, time.Now()}
	}()
	plain := make(chan result, 1)
	go func() {
		_, err := noRetry.Database("test").Collection("rstl").InsertOne(ctx, bson.D{{Key: "_id", Value: 3}})
		plain <- result{err, time.Now()}
	}()
	eventually(t, 5*time.Second, "three inserts in flight, two with their session checked out", func() bool {
		ts.nodes[p].ops.mu.Lock()
		defer ts.nodes[p].ops.mu.Unlock()
		inserts, sessions := 0, 0
		for op := range ts.nodes[p].ops.ops {
			if op.name == "insert" {
				inserts++
				if op.session.Load() {
					sessions++
				}
			}
		}
		return inserts >= 3 && sessions >= 2
	})

	s := (p + 1) % 3
	// An election can be lost under load (a vote request timing out): try again, and time the
	// attempt that won.
	var stepUp time.Time
	eventually(t, 15*time.Second, "replSetStepUp to win", func() bool {
		stepUp = time.Now()
		err := ts.admin(s, bson.D{{Key: "replSetStepUp", Value: 1}}, nil)
		if err != nil {
			t.Logf("replSetStepUp on %d: %v (trying again)", s, err)
		}
		return err == nil
	})
	r := <-raw
	var ce mongo.CommandError
	if !errors.As(r.err, &ce) || ce.Code != 11602 || ce.Message != "operation was interrupted" || !ce.HasErrorLabel("RetryableWriteError") {
		t.Fatalf("the blocked retryable write: want 11602 \"operation was interrupted\" labelled RetryableWriteError, got %v", r.err)
	}
	if d := r.at.Sub(stepUp); d > 2*time.Second {
		t.Fatalf("11602 came %v after the stepup", d)
	}
	rr := <-retryable
	if rr.err != nil {
		t.Fatalf("the driver's retryable write: %v", rr.err)
	}
	if n := ts.count(s, "rstl"); n < 2 {
		t.Fatalf("the retried write is not on the new primary %d (count %d)", s, n)
	}
	t.Logf("11602 %v after the stepup; the driver's retry landed on the new primary %v after it", r.at.Sub(stepUp), rr.at.Sub(stepUp))

	select {
	case err := <-ts.nodes[p].errc:
		if !IsFatalAssertion(err) {
			t.Fatalf("old primary's Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the old primary did not abort at the cap")
	}
	aborted := time.Since(stepUp)
	pr := <-plain
	if !mongo.IsNetworkError(pr.err) {
		t.Fatalf("the write without a session: want its connection closed by the abort, got %v", pr.err)
	}
	if pr.at.Sub(stepUp) < 2*time.Second {
		t.Fatalf("the write without a session ended %v after the stepup, before the abort", pr.at.Sub(stepUp))
	}
	if nc, err := net.DialTimeout("tcp", ts.nodes[p].Addr(), time.Second); err == nil {
		_ = nc.Close()
		t.Fatal("the aborted primary still accepts connections (heartbeats would be answered)")
	}
	t.Logf("old primary aborted %v after the stepup; the sessionless write failed %v after it", aborted, pr.at.Sub(stepUp))
}

// TestRSTLStepDownInterruptsWriteConcernWaiters: a write waiting for its write concern took the
// global lock in IX, so the kill-op step interrupts it before the stepdown errors the waiters:
// the reply carries writeConcernError InterruptedDueToReplStateChange, not PrimarySteppedDown.
func TestRSTLStepDownInterruptsWriteConcernWaiters(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	ts.nodes[(p+1)%3].Stop(nil)
	c := ts.nodes[p].client(t, options.Client().SetRetryWrites(false))
	coll := c.Database("test").Collection("wc", options.Collection().SetWriteConcern(&writeconcern.WriteConcern{W: 3}))
	done := make(chan error, 1)
	go func() {
		_, err := coll.InsertOne(context.Background(), bson.D{{Key: "x", Value: 1}})
		done <- err
	}()
	eventually(t, 5*time.Second, "the write waiting for w:3", func() bool {
		ts.nodes[p].mu.Lock()
		defer ts.nodes[p].mu.Unlock()
		return len(ts.nodes[p].repl.waiters) > 0
	})
	if _, err := runAdmin(t, ts.clients[p], bson.D{{Key: "replSetStepDown", Value: 60}, {Key: "force", Value: true}}); err != nil {
		t.Fatalf("forced stepdown: %v", err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the write is still waiting after the stepdown")
	}
	var we mongo.WriteException
	if !errors.As(err, &we) || we.WriteConcernError == nil || we.WriteConcernError.Code != 11602 ||
		we.WriteConcernError.Message != "operation was interrupted" {
		t.Fatalf("want writeConcernError 11602 \"operation was interrupted\", got %v", err)
	}
}

// TestRSTLSignaledShutdownUnlocksFsyncFirst: on SIGTERM mongod runs the fsync shutdown task before
// the stepdown of shutdownTask (shutdown tasks run last registered first), so an fsyncLocked
// primary steps down and exits cleanly instead of aborting at the RSTL cap.
func TestRSTLSignaledShutdownUnlocksFsyncFirst(t *testing.T) {
	ts := startTestSetWith(t, 3, 0, fastSettings, Options{Parameters: map[string]string{
		"fassertOnLockTimeoutForStepUpDown": "2", "shutdownTimeoutMillisForSignaledShutdown": "3000"}})
	p := ts.waitPrimary(20 * time.Second)
	fsyncLockNode(t, ts.clients[p])
	done := make(chan struct{})
	go func() {
		ts.nodes[p].ShutdownSignaled(syscall.SIGTERM)
		close(done)
	}()
	select {
	case err := <-ts.nodes[p].errc:
		if err != nil {
			t.Fatalf("Serve after SIGTERM: %v, want a clean exit", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the node did not stop after SIGTERM")
	}
	<-done
	ts.waitPrimary(20*time.Second, p)
}

// TestRSTLStopDoesNotHangOnAStalledPrimary: Stop used to wait for the no-op writer blocked in
// storage (repl.stop before the stall was lifted), leaving a half-stopped node whose open
// connections still answered. Now the holds are dropped and lock waits fail first.
func TestRSTLStopDoesNotHangOnAStalledPrimary(t *testing.T) {
	ts := startTestSetWith(t, 1, 0, fastSettings, Options{Parameters: map[string]string{"periodicNoopIntervalSecs": "1"}})
	p := ts.waitPrimary(20 * time.Second)
	setFailPoint(t, ts.clients[p], "mongoemuDiskStall", "alwaysOn", bson.D{{Key: "blocked", Value: true}})
	eventually(t, 5*time.Second, "the no-op writer waiting on the global lock", func() bool {
		x := ts.nodes[p].locks.global
		x.mu.Lock()
		defer x.mu.Unlock()
		return len(x.queue) > 0
	})
	stopped := make(chan struct{})
	go func() {
		ts.nodes[p].Stop(nil)
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop hangs on a stalled primary")
	}
}

// TestRSTLDeadlineAtTheCapIsFatal: the cap replaces only a deadline strictly beyond it, but the
// timeout callback aborts once the time waited reaches it, so a
// deadline exactly at the cap ends in the abort, not LockTimeout — as a shutdown command with
// the default timeoutSecs (15) does on an fsyncLocked primary under the default cap (15).
func TestRSTLDeadlineAtTheCapIsFatal(t *testing.T) {
	ts := startTestSetWith(t, 3, 0, fastSettings, Options{Parameters: map[string]string{"fassertOnLockTimeoutForStepUpDown": "2"}})
	p := ts.waitPrimary(20 * time.Second)
	fsyncLockNode(t, ts.clients[p])
	_, err := runAdmin(t, ts.clients[p], bson.D{{Key: "replSetStepDown", Value: 60}, {Key: "secondaryCatchUpPeriodSecs", Value: 2}})
	if !mongo.IsNetworkError(err) {
		t.Fatalf("want the abort (connection closed), got %v", err)
	}
	select {
	case err := <-ts.nodes[p].errc:
		if !IsFatalAssertion(err) {
			t.Fatalf("Serve: %v, want the fatal assertion", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no abort")
	}
}

// TestRSTLWriteDuringStepDownAttemptQueues: while a stepdown waits for the RSTL, mongod still
// accepts writes at dispatch (_canAcceptNonLocalWrites is cleared only under the RSTL), and they
// queue behind the X request; when the stepdown gives up with LockTimeout they go on. Before, such
// a write failed at once with NotWritablePrimary.
func TestRSTLWriteDuringStepDownAttemptQueues(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	fsyncLockNode(t, ts.clients[p])
	stepDown := make(chan error, 1)
	go func() {
		_, err := runAdmin(t, ts.clients[p], bson.D{{Key: "replSetStepDown", Value: 60}, {Key: "secondaryCatchUpPeriodSecs", Value: 2}})
		stepDown <- err
	}()
	eventually(t, 5*time.Second, "the stepdown waiting for the RSTL", func() bool {
		r := ts.nodes[p].locks.rstl
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.queue) > 0
	})
	c := ts.nodes[p].client(t, options.Client().SetRetryWrites(false))
	wrote := make(chan error, 1)
	go func() {
		_, err := c.Database("test").Collection("queued").InsertOne(context.Background(), bson.D{{Key: "x", Value: 1}})
		wrote <- err
	}()
	select {
	case err := <-wrote:
		t.Fatalf("the write during the stepdown attempt returned at once: %v", err)
	case err := <-stepDown:
		var ce mongo.CommandError
		if !errors.As(err, &ce) || ce.Code != 24 {
			t.Fatalf("stepdown: %v, want LockTimeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stepdown did not time out")
	}
	if _, err := runAdmin(t, ts.clients[p], bson.D{{Key: "fsyncUnlock", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatalf("the queued write: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the queued write never completed")
	}
}
