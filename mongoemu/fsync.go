package mongoemu

import "sync"

// fsyncLock models {fsyncLock: 1}: the count nests like mongod's; while it is positive the global
// lock is held in S (stall.go, rstl.go), so writes block while reads and hello go on, which is
// exactly how a stalled disk looks from outside.
type fsyncLock struct {
	mu    sync.Mutex
	count int
	onSet func(locked bool)
}

func newFsyncLock() *fsyncLock { return &fsyncLock{} }

func (f *fsyncLock) lock() int {
	f.mu.Lock()
	f.count++
	n, cb := f.count, f.onSet
	f.mu.Unlock()
	if cb != nil && n == 1 {
		cb(true)
	}
	return n
}

// unlock returns the remaining count, or -1 when the node was not locked.
func (f *fsyncLock) unlock() int {
	f.mu.Lock()
	if f.count == 0 {
		f.mu.Unlock()
		return -1
	}
	f.count--
	n, cb := f.count, f.onSet
	f.mu.Unlock()
	if cb != nil && n == 0 {
		cb(false)
	}
	return n
}

func (f *fsyncLock) locked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count
}

// release drops every lock (shutdown).
func (f *fsyncLock) release() {
	f.mu.Lock()
	f.count = 0
	cb := f.onSet
	f.mu.Unlock()
	if cb != nil {
		cb(false)
	}
}
