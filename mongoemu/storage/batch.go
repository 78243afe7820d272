package storage

import (
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// groupCommit batches concurrent Batch callers into one bbolt transaction, LevelDB-writer style:
// the first caller becomes the leader and commits everything queued; callers arriving meanwhile
// queue up and the next leader commits them all at once. A lone writer commits at once and the
// batch grows with the load, with no timer. bbolt's own DB.Batch waits MaxBatchDelay unless
// MaxBatchSize callers arrive, which measured 2-4x slower with 8 writers (see bench_test.go).
type groupCommit struct {
	mu         sync.Mutex
	queue      []*batchCall
	committing bool
}

type batchCall struct {
	fn   func(*bolt.Tx) error
	done chan batchResult // buffered(1): the result, or the baton to lead the next group
}

type batchResult struct {
	err  error
	lead bool
}

// Batch is Update with group commit: concurrent callers share one commit (and one fsync when
// each commit syncs). fn may run more than once (when another member of its group fails, the
// rest are retried without it), so it must not have effects outside tx. The write delay, if set,
// is served once per group commit, like a slow disk.
func (s *Store) Batch(fn func(tx *Tx) error) error {
	if err := s.beforeWrite(); err != nil {
		return err
	}
	c := &batchCall{
		fn: func(btx *bolt.Tx) error {
			t := &Tx{tx: btx, s: s}
			if err := fn(t); err != nil {
				return err
			}
			t.flushVersions()
			return nil
		},
		done: make(chan batchResult, 1),
	}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if g.committing {
		g.mu.Unlock()
		if r := <-c.done; !r.lead {
			return s.afterWrite(r.err)
		}
	} else {
		g.committing = true
		g.mu.Unlock()
	}
	s.leadGroup()
	return s.afterWrite((<-c.done).err)
}

// leadGroup commits the queued calls (the leader's own included), then passes the baton to the
// first caller that queued meanwhile, so no caller commits for others for long.
func (s *Store) leadGroup() {
	g := &s.group
	g.mu.Lock()
	calls := g.queue
	g.queue = nil
	g.mu.Unlock()

	s.runGroup(calls)

	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.committing = false
		return
	}
	g.queue[0].done <- batchResult{lead: true}
}

// runGroup commits calls in one transaction; a call that fails is dropped from the group and
// rerun alone so that it gets its own error and the others still commit.
func (s *Store) runGroup(calls []*batchCall) {
	var solo []*batchCall
	for len(calls) > 0 {
		failed := -1
		err := s.db.Update(func(btx *bolt.Tx) error {
			for i, c := range calls {
				if err := safeCall(c.fn, btx); err != nil {
					failed = i
					return err
				}
			}
			return s.stall.sleep(s.done)
		})
		if failed < 0 {
			for _, c := range calls {
				c.done <- batchResult{err: err}
			}
			break
		}
		solo = append(solo, calls[failed])
		calls = append(calls[:failed:failed], calls[failed+1:]...)
	}
	for _, c := range solo {
		c.done <- batchResult{err: s.db.Update(func(btx *bolt.Tx) error {
			if err := safeCall(c.fn, btx); err != nil {
				return err
			}
			return s.stall.sleep(s.done)
		})}
	}
}

// safeCall turns a panic in one caller's fn into that caller's error instead of killing the
// leader, which runs on another caller's goroutine.
func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("storage: panic in Batch function: %v", p)
		}
	}()
	return fn(tx)
}
