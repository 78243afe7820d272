package lab

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Poll calls cond until it returns nil or an Abort error, ctx ends or timeout passes, backing
// off from 20ms to 250ms between calls. It returns nil on success, otherwise the last error cond
// returned (wrapped with the deadline error). cond gets a context bounded by the overall deadline.
func Poll(ctx context.Context, timeout time.Duration, cond func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	interval := 20 * time.Millisecond
	var last error
	for {
		if last = cond(ctx); last == nil {
			return nil
		}
		var abort *abortError
		if errors.As(last, &abort) {
			return abort.err
		}
		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), last)
		case <-timer.C:
		}
		if interval < 250*time.Millisecond {
			interval *= 2
		}
	}
}

type abortError struct{ err error }

func (e *abortError) Error() string { return e.err.Error() }
func (e *abortError) Unwrap() error { return e.err }

// Abort wraps err so that Poll stops at once and returns err (e.g. the awaited process died).
func Abort(err error) error { return &abortError{err: err} }
