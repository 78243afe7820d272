package storage

import (
	"sync"
	"sync/atomic"
	"time"
)

// stall implements the emulator's disk-stall failpoint: a delay before every write commit, and a
// gate that holds write transactions back while reads go on. The gate is waited on before the
// bbolt writer lock is taken, so a blocked writer never holds up readers, Sync or Close.
type stall struct {
	delay atomic.Int64 // time.Duration

	mu      sync.Mutex
	blocked bool
	open    chan struct{} // closed when the gate opens; replaced when it closes again
}

func newStall() *stall {
	return &stall{}
}

// SetWriteDelay makes every write transaction sleep d before it commits (0 turns it off).
// Batch callers each sleep before joining a group commit.
func (s *Store) SetWriteDelay(d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.stall.delay.Store(int64(d))
}

// SetWriteBlocked closes (true) or opens (false) the write gate. While closed, Update and Batch
// wait before starting; View keeps working. Close opens the gate, failing the waiters with
// ErrClosed.
func (s *Store) SetWriteBlocked(blocked bool) {
	st := s.stall
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case blocked && !st.blocked:
		st.blocked = true
		st.open = make(chan struct{})
	case !blocked && st.blocked:
		st.blocked = false
		close(st.open)
	}
}

// WriteBlocked reports whether the write gate is closed.
func (s *Store) WriteBlocked() bool {
	s.stall.mu.Lock()
	defer s.stall.mu.Unlock()
	return s.stall.blocked
}

// waitWritable returns when the write gate is open, or ErrClosed once the store is closing.
func (st *stall) waitWritable(done <-chan struct{}) error {
	for {
		st.mu.Lock()
		if !st.blocked {
			st.mu.Unlock()
			select {
			case <-done:
				return ErrClosed
			default:
				return nil
			}
		}
		open := st.open
		st.mu.Unlock()
		select {
		case <-open:
		case <-done:
			return ErrClosed
		}
	}
}

// sleep waits out the configured write delay, cut short (with ErrClosed) by Close.
func (st *stall) sleep(done <-chan struct{}) error {
	d := time.Duration(st.delay.Load())
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-done:
		return ErrClosed
	}
}
