package notify

import "context"

// worker consumes one queue: a webhook's or an asynchronous hook's. Events are handled one at
// a time, in order, so that a receiver sees a failover before the resync that follows it.
type worker struct {
	name    string
	q       *queue[Event]
	handle  func(ctx context.Context, ev Event)
	abandon func(ev Event) // an event still queued when Close gives up
	length  func(n int)    // reports the queue length after each change
}

// run handles events until the queue is closed and empty, or abort ends; then it abandons what
// is left.
func (w *worker) run(abort context.Context) {
	for {
		ev, ok, done := w.q.pop()
		if done {
			return
		}
		if !ok {
			select {
			case <-w.q.ready:
			case <-abort.Done():
				for _, ev := range w.q.drain() {
					w.abandon(ev)
				}
				w.length(0)
				return
			}
			continue
		}
		w.length(w.q.len())
		if abort.Err() != nil {
			w.abandon(ev)
			continue
		}
		w.handle(abort, ev)
	}
}
