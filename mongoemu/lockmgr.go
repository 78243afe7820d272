package mongoemu

import (
	"context"
	"sync"
	"time"
)

// lockMode is one of mongod's lock modes (concurrency/lock_manager_defs.h LockMode).
type lockMode int

const (
	modeNone lockMode = iota
	modeIS
	modeIX
	modeS
	modeX
	lockModesCount
)

var lockModeNames = [lockModesCount]string{"NONE", "IS", "IX", "S", "X"}

func (m lockMode) String() string { return lockModeNames[m] }

// lockConflicts is mongod's LockConflictsTable (lock_manager.cpp): the modes each mode conflicts
// with, as a bit set indexed by mode.
var lockConflicts = [lockModesCount]uint8{
	modeNone: 0,
	modeIS:   1 << modeX,
	modeIX:   1<<modeS | 1<<modeX,
	modeS:    1<<modeIX | 1<<modeX,
	modeX:    1<<modeIS | 1<<modeIX | 1<<modeS | 1<<modeX,
}

func modesConflict(m lockMode, granted uint8) bool { return lockConflicts[m]&granted != 0 }

// lockResource is one resource of mongod's lock manager (a LockHead): requests that are granted
// and a FIFO queue of conflicting ones. As in lock_manager.cpp, a new request waits whenever the
// queue is not empty, unless a granted request asked for the "compatibleFirst" policy; and the
// strong modes (S, X) of the global resources (the global lock, the RSTL) jump to the front of
// the queue and get the compatibleFirst policy (locker_impl.cpp _lockBegin).
type lockResource struct {
	name string // ResourceId::toString, for LockTimeout messages

	mu              sync.Mutex
	grantedCounts   [lockModesCount]int
	compatibleFirst int // granted requests with the compatibleFirst policy
	queue           []*lockRequest
	closed          chan struct{} // closed by shut: every wait fails with closeErr
	closeErr        error
}

// lockRequest is one request on a resource: waiting until granted is closed.
type lockRequest struct {
	res     *lockResource
	mode    lockMode
	front   bool // enqueueAtFront + compatibleFirst (global S/X)
	granted chan struct{}
	state   int // reqWaiting, reqGranted, reqDone
}

const (
	reqWaiting = iota
	reqGranted
	reqDone
)

func newLockResource(name string) *lockResource {
	return &lockResource{name: name, closed: make(chan struct{})}
}

func (r *lockResource) grantedModes() uint8 {
	var m uint8
	for mode, n := range r.grantedCounts {
		if n > 0 {
			m |= 1 << mode
		}
	}
	return m
}

// enqueue asks for mode and returns at once, granted or waiting (LockManager::lock).
func (r *lockResource) enqueue(mode lockMode, front bool) *lockRequest {
	req := &lockRequest{res: r, mode: mode, front: front, granted: make(chan struct{})}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !modesConflict(mode, r.grantedModes()) && (len(r.queue) == 0 || r.compatibleFirst > 0) {
		r.grantLocked(req)
		return req
	}
	if front {
		r.queue = append([]*lockRequest{req}, r.queue...)
	} else {
		r.queue = append(r.queue, req)
	}
	return req
}

func (r *lockResource) grantLocked(req *lockRequest) {
	req.state = reqGranted
	r.grantedCounts[req.mode]++
	if req.front {
		r.compatibleFirst++
	}
	close(req.granted)
}

// grantWaitersLocked grants queued requests in order once they no longer conflict; a conflicting
// one stops the scan unless a compatibleFirst request is granted (lock_manager.cpp
// _onLockModeChanged).
func (r *lockResource) grantWaitersLocked() {
	keep := r.queue[:0]
	blocked := false
	for _, q := range r.queue {
		if !blocked && !modesConflict(q.mode, r.grantedModes()) {
			r.grantLocked(q)
			continue
		}
		if r.compatibleFirst == 0 {
			blocked = true
		}
		keep = append(keep, q)
	}
	for i := len(keep); i < len(r.queue); i++ {
		r.queue[i] = nil
	}
	r.queue = keep
}

// wait blocks until req is granted, ctx ends (an interrupted or expired operation), the deadline
// passes (zero: none) or the resource is shut. On failure the request is withdrawn; the result
// is errLockDeadline, the ctx's cause or the shut error.
func (req *lockRequest) wait(ctx context.Context, deadline time.Time) error {
	var timer <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timer = t.C
	}
	var err error
	select {
	case <-req.res.closed: // a shut resource grants nothing any more, even uncontended
		req.unlock()
		return req.res.closeErr
	default:
	}
	select {
	case <-req.granted:
		// CondVarLockGrantNotification::wait checks for interrupt after a grant too.
		if ctx.Err() == nil {
			return nil
		}
		err = context.Cause(ctx)
	case <-ctx.Done():
		err = context.Cause(ctx)
	case <-timer:
		err = errLockDeadline
	case <-req.res.closed:
		err = req.res.closeErr
	}
	req.unlock()
	return err
}

// unlock releases a granted request or withdraws a waiting one; queued requests it held back are
// granted. Unlocking twice is a no-op.
func (req *lockRequest) unlock() {
	r := req.res
	r.mu.Lock()
	defer r.mu.Unlock()
	switch req.state {
	case reqGranted:
		r.grantedCounts[req.mode]--
		if req.front {
			r.compatibleFirst--
		}
	case reqWaiting:
		for i, q := range r.queue {
			if q == req {
				r.queue = append(r.queue[:i], r.queue[i+1:]...)
				break
			}
		}
	default:
		return
	}
	req.state = reqDone
	r.grantWaitersLocked()
}

// shut makes every current and future wait on r fail with err (node abort or shutdown).
func (r *lockResource) shut(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.closed:
		return
	default:
	}
	r.closeErr = err
	close(r.closed)
}
