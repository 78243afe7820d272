package harness

import (
	"context"
	"testing"
	"time"

	"github.com/rsguard/rsguard/lab"
)

// Poll calls cond until it returns nil or an Abort error, ctx ends or timeout passes (lab.Poll).
func Poll(ctx context.Context, timeout time.Duration, cond func(ctx context.Context) error) error {
	return lab.Poll(ctx, timeout, cond)
}

// WaitFor polls cond (see Poll) and fails the test with what and the last error when the
// timeout passes. Call it from the test goroutine.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func(ctx context.Context) error) {
	t.Helper()
	if err := Poll(context.Background(), timeout, cond); err != nil {
		t.Fatalf("waiting %v for %s: %v", timeout, what, err)
	}
}

// Abort wraps err so that Poll stops at once and returns err (e.g. the awaited process died).
func Abort(err error) error { return lab.Abort(err) }
