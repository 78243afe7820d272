package drill

import (
	"context"
	"slices"
	"sync"
	"time"
)

// watcher polls the set's members for the whole run: the states measured afterwards and the
// latest view the scenario's waits read.
type watcher struct {
	mu      sync.Mutex
	samples []StateSample
	errs    int
	cancel  context.CancelFunc
	done    chan struct{}
}

func startWatcher(ctx context.Context, t Target, every time.Duration) *watcher {
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			qctx, qcancel := context.WithTimeout(ctx, max(every*4, 2*time.Second))
			ms, err := t.Members(qctx)
			qcancel()
			w.mu.Lock()
			if err != nil {
				w.errs++
			} else {
				w.samples = append(w.samples, StateSample{At: time.Now(), Members: ms})
			}
			w.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *watcher) latest() []Member {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.samples) == 0 {
		return nil
	}
	return w.samples[len(w.samples)-1].Members
}

// stop ends the polling and returns every sample.
func (w *watcher) stop() []StateSample {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.samples)
}
