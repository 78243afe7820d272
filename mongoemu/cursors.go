package mongoemu

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// cursor is an open server cursor.
type cursor interface {
	// next returns up to batchSize documents (0 = default 101 first batch / unlimited up to 16 MiB for getMore), waiting up to maxAwait for new data on a tailable awaitData cursor; done reports the cursor is exhausted.
	next(ctx context.Context, batchSize int, maxAwait time.Duration) (docs []bson.Raw, done bool, err error)
	close()
}

// cursorReplyMetadata is optional: a cursor implementing it adds fields (e.g. the oplog's
// $replData / $oplogQueryData, spec §7.3) to every find/getMore reply it produces.
type cursorReplyMetadata interface {
	replyMetadata(r *request) bson.D
}

const (
	// cursorIdleTimeout is mongod's cursorTimeoutMillis default.
	cursorIdleTimeout = 10 * time.Minute
	// maxBatchBytes bounds one batch like mongod's 16 MiB reply budget.
	maxBatchBytes = 16 << 20
	// defaultFirstBatch is mongod's default number of documents in a first batch.
	defaultFirstBatch = 101
	// defaultAwaitData is how long a getMore on an awaitData cursor waits without maxTimeMS.
	defaultAwaitData = time.Second
)

// cursorSet holds the open cursors by id. Idle cursors are reaped lazily when the set is
// touched, so it needs no goroutine of its own.
type cursorSet struct {
	mu        sync.Mutex
	m         map[int64]*cursorEntry
	lastSweep time.Time
}

// cursorEntry is one registered cursor. A cursor is pinned (inUse) while a getMore runs on it,
// so two getMores never share it (mongod's CursorInUse).
type cursorEntry struct {
	id          int64
	ns          string
	c           cursor
	awaitData   bool
	noTimeout   bool
	inUse       bool
	killPending bool
	lastUsed    time.Time
}

func newCursorSet() *cursorSet { return &cursorSet{m: map[int64]*cursorEntry{}} }

// add registers c and returns its id: a random positive int64, like mongod's.
func (s *cursorSet) add(ns string, c cursor, awaitData, noTimeout bool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.sweepLocked(now)
	for {
		id := rand.Int64N(math.MaxInt64-1) + 1
		if _, taken := s.m[id]; taken {
			continue
		}
		s.m[id] = &cursorEntry{id: id, ns: ns, c: c, awaitData: awaitData, noTimeout: noTimeout, lastUsed: now}
		return id
	}
}

// checkout pins cursor id of namespace ns for one getMore.
func (s *cursorSet) checkout(id int64, ns string) (*cursorEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(time.Now())
	e := s.m[id]
	if e == nil || e.killPending {
		return nil, mongoerr.New(mongoerr.CursorNotFound, "cursor id %d not found", id)
	}
	if e.ns != ns {
		return nil, mongoerr.New(mongoerr.Unauthorized,
			"Requested getMore on namespace '%s', but cursor belongs to a different namespace %s", ns, e.ns)
	}
	if e.inUse {
		return nil, mongoerr.New(mongoerr.Code(292), "Cursor already in use (namespace: '%s', id: %d).", ns, id)
	}
	e.inUse = true
	return e, nil
}

// release unpins e; a finished or killed cursor is closed and forgotten.
func (s *cursorSet) release(e *cursorEntry, finished bool) {
	s.mu.Lock()
	e.inUse = false
	e.lastUsed = time.Now()
	drop := finished || e.killPending
	if drop {
		delete(s.m, e.id)
	}
	s.mu.Unlock()
	if drop {
		e.c.close()
	}
}

// kill closes cursor id of ns; false when there is no such cursor there. A cursor in use is
// closed by its getMore when that returns.
func (s *cursorSet) kill(id int64, ns string) bool {
	s.mu.Lock()
	e := s.m[id]
	if e == nil || e.ns != ns || e.killPending {
		s.mu.Unlock()
		return false
	}
	if e.inUse {
		e.killPending = true
		s.mu.Unlock()
		return true
	}
	delete(s.m, id)
	s.mu.Unlock()
	e.c.close()
	return true
}

// open is the number of registered cursors (serverStatus metrics.cursor.open.total).
func (s *cursorSet) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// closeAll closes every cursor (shutdown).
func (s *cursorSet) closeAll() {
	s.mu.Lock()
	all := s.m
	s.m = map[int64]*cursorEntry{}
	s.mu.Unlock()
	for _, e := range all {
		e.c.close()
	}
}

// sweepLocked reaps cursors idle for cursorIdleTimeout, at most once a second.
func (s *cursorSet) sweepLocked(now time.Time) {
	if now.Sub(s.lastSweep) < time.Second {
		return
	}
	s.lastSweep = now
	for id, e := range s.m {
		if !e.inUse && !e.noTimeout && now.Sub(e.lastUsed) > cursorIdleTimeout {
			delete(s.m, id)
			go e.c.close()
		}
	}
}

// sliceCursor serves documents computed up front (aggregate, listCollections, listIndexes).
type sliceCursor struct {
	docs []bson.Raw
}

func (c *sliceCursor) next(_ context.Context, batchSize int, _ time.Duration) ([]bson.Raw, bool, error) {
	var out []bson.Raw
	out, c.docs = takeBatch(c.docs, batchSize)
	return out, len(c.docs) == 0, nil
}

func (c *sliceCursor) close() { c.docs = nil }

// takeBatch splits off the first batchSize documents (0: no count limit), never more than
// maxBatchBytes but always at least one document.
func takeBatch(docs []bson.Raw, batchSize int) (batch, rest []bson.Raw) {
	size, i := 0, 0
	for ; i < len(docs); i++ {
		if batchSize > 0 && i >= batchSize {
			break
		}
		if i > 0 && size+len(docs[i]) > maxBatchBytes {
			break
		}
		size += len(docs[i])
	}
	return docs[:i:i], docs[i:]
}

// projectingCursor applies a find projection to another cursor's documents (the oplog).
type projectingCursor struct {
	cursor
	apply func(bson.Raw) bson.Raw
}

func (c projectingCursor) next(ctx context.Context, batchSize int, maxAwait time.Duration) ([]bson.Raw, bool, error) {
	docs, done, err := c.cursor.next(ctx, batchSize, maxAwait)
	for i, d := range docs {
		docs[i] = c.apply(d)
	}
	return docs, done, err
}

func (c projectingCursor) replyMetadata(r *request) bson.D {
	if m, ok := c.cursor.(cursorReplyMetadata); ok {
		return m.replyMetadata(r)
	}
	return nil
}
