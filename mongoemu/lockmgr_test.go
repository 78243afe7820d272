package mongoemu

import (
	"context"
	"errors"
	"testing"
	"time"
)

func granted(req *lockRequest) bool {
	select {
	case <-req.granted:
		return true
	default:
		return false
	}
}

// TestLockModesConflictLikeMongod: the LockConflictsTable of lock_manager.cpp.
func TestLockModesConflictLikeMongod(t *testing.T) {
	cases := []struct {
		held, asked lockMode
		ok          bool
	}{
		{modeIX, modeIX, true}, {modeIX, modeIS, true}, {modeIX, modeS, false}, {modeIX, modeX, false},
		{modeS, modeIS, true}, {modeS, modeS, true}, {modeS, modeIX, false},
		{modeIS, modeX, false}, {modeX, modeIS, false},
	}
	for _, c := range cases {
		r := newLockResource("r")
		h := r.enqueue(c.held, false)
		a := r.enqueue(c.asked, false)
		if !granted(h) || granted(a) != c.ok {
			t.Errorf("%s held, %s asked: granted=%v, want %v", c.held, c.asked, granted(a), c.ok)
		}
	}
}

// TestLockQueueIsFairExceptCompatibleFirst: a waiting X (the RSTL of a stepdown, queued at the
// front) holds back every later IX, even though IX is compatible with the granted IX; a granted S
// of the global resource lets later IS through past a waiting IX (compatibleFirst), which is why
// reads go on under fsyncLock while writes wait.
func TestLockQueueIsFairExceptCompatibleFirst(t *testing.T) {
	rstl := newLockResource("rstl")
	writer := rstl.enqueue(modeIX, false)
	x := rstl.enqueue(modeX, true)
	late := rstl.enqueue(modeIX, false)
	if !granted(writer) || granted(x) || granted(late) {
		t.Fatalf("writer %v, X %v, late IX %v: want only the first IX granted", granted(writer), granted(x), granted(late))
	}
	writer.unlock()
	if !granted(x) || granted(late) {
		t.Fatalf("after the writer: X %v, late IX %v", granted(x), granted(late))
	}
	x.unlock()
	if !granted(late) {
		t.Fatal("late IX not granted after X")
	}

	global := newLockResource("global")
	s := global.enqueue(modeS, true)
	w := global.enqueue(modeIX, false)
	read := global.enqueue(modeIS, false)
	if !granted(s) || granted(w) || !granted(read) {
		t.Fatalf("S %v, IX %v, IS %v: want S and IS granted, IX waiting", granted(s), granted(w), granted(read))
	}
	s.unlock()
	if !granted(w) {
		t.Fatal("IX not granted once S is released")
	}
}

// TestLockWaitEndsAtDeadlineInterruptOrShut: a wait gives up at its deadline and is withdrawn (the
// IX queued behind it is granted), ends with the cause of an interrupted context, and fails at
// once on a shut resource.
func TestLockWaitEndsAtDeadlineInterruptOrShut(t *testing.T) {
	r := newLockResource("rstl")
	holder := r.enqueue(modeIX, false)
	x := r.enqueue(modeX, true)
	behind := r.enqueue(modeIX, false)
	start := time.Now()
	if err := x.wait(context.Background(), start.Add(100*time.Millisecond)); !errors.Is(err, errLockDeadline) {
		t.Fatalf("X wait: %v, want errLockDeadline", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("X gave up after %v, before its deadline", d)
	}
	if !granted(behind) {
		t.Fatal("the IX behind a withdrawn X stays queued")
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	w := r.enqueue(modeX, true)
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel(errReplStateChange())
	}()
	if err := w.wait(ctx, time.Time{}); err == nil || err.Error() != errReplStateChange().Error() {
		t.Fatalf("interrupted wait: %v", err)
	}

	shutErr := errors.New("aborted")
	w2 := r.enqueue(modeX, true)
	r.shut(shutErr)
	if err := w2.wait(context.Background(), time.Time{}); !errors.Is(err, shutErr) {
		t.Fatalf("wait on a shut resource: %v", err)
	}
	holder.unlock()
	behind.unlock()
	holder.unlock() // twice is a no-op
}

// TestGlobalHoldBlocksWritersNotReaders: fsyncLock's hold (global S, RSTL IX) makes a writer's
// global IX wait and a state transition's RSTL X wait, while an IS reader passes.
func TestGlobalHoldBlocksWritersNotReaders(t *testing.T) {
	l := newNodeLocks()
	if err := l.hold(context.Background(), holdFsyncLock, true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := l.lockGlobal(ctx, modeIX); err == nil {
		t.Fatal("a write got the global lock in IX under fsyncLock")
	}
	rd, err := l.lockGlobal(context.Background(), modeIS)
	if err != nil {
		t.Fatalf("read under fsyncLock: %v", err)
	}
	rd.release()
	x := l.rstl.enqueue(modeX, true)
	if err := x.wait(context.Background(), time.Now().Add(50*time.Millisecond)); !errors.Is(err, errLockDeadline) {
		t.Fatalf("RSTL X under fsyncLock: %v, want a timeout", err)
	}
	l.unhold(holdFsyncLock)
	w, err := l.lockGlobal(context.Background(), modeIX)
	if err != nil {
		t.Fatalf("write after the unlock: %v", err)
	}
	w.release()
}
