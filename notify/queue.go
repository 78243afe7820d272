package notify

import "sync"

// queue is a bounded FIFO that never blocks its producer: when full, the oldest item is
// dropped and returned, so that a dead receiver costs memory for limit items at most and the
// newest news still gets through once it is back.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	limit  int
	closed bool
	ready  chan struct{} // holds a token while items is non-empty or the queue is closed
}

func newQueue[T any](limit int) *queue[T] {
	return &queue[T]{limit: limit, ready: make(chan struct{}, 1)}
}

// push appends v; it returns the dropped oldest item, if any, and false when the queue is closed.
func (q *queue[T]) push(v T) (dropped *T, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, false
	}
	if len(q.items) >= q.limit {
		d := q.items[0]
		dropped = &d
		q.items = q.items[1:]
	}
	q.items = append(q.items, v)
	q.signal()
	return dropped, true
}

// pop takes the oldest item; ok is false when the queue is empty, and then done says whether
// it is also closed, so that the consumer can stop.
func (q *queue[T]) pop() (v T, ok, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return v, false, q.closed
	}
	v = q.items[0]
	var zero T
	q.items[0] = zero
	q.items = q.items[1:]
	if len(q.items) > 0 {
		q.signal()
	}
	return v, true, false
}

// drain empties the queue and returns what it held.
func (q *queue[T]) drain() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.items
	q.items = nil
	return out
}

func (q *queue[T]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// close refuses further pushes; the consumer still gets what is queued.
func (q *queue[T]) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.signal()
}

func (q *queue[T]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}
