package recovery

import (
	"context"
	"log/slog"
	"time"
)

// Controller owns a mongod process for its sidecar (the recovery issue, deliverable 1). Start
// brings it up and keeps it up (restarting after a crash, with backoff); Stop brings it down and
// keeps it down until the next Start, which is what fencing relies on: a fenced mongod stays down
// until recovery decides. Implementations: ExecController (mongod as the sidecar's child),
// CommandController (the user's start/stop/status scripts) and SystemdController (a systemd
// service unit, through systemctl).
type Controller interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	// Process is the controller's account of the process, for Classify.
	Process() Process
	// Exits delivers one event per exit of the process the instant it happens, so that
	// detection does not wait for its next probe.
	Exits() <-chan Exit
}

// Exit is one exit of the controlled process.
type Exit struct {
	At time.Time
	// Err is how it ended (exit status or signal); nil for a clean exit.
	Err error
	// Wanted: the exit followed Stop, not a crash.
	Wanted bool
}

// reportExit delivers e without blocking the controller: the channel is buffered, and an event
// nobody reads is dropped and logged.
func reportExit(logger *slog.Logger, ch chan<- Exit, e Exit) {
	select {
	case ch <- e:
	default:
		logger.Warn("exit event dropped: nobody reads Exits", "at", e.At)
	}
}

// backoff is the wait before a restart after the n-th recent exit: lo, doubling per exit, at
// most hi.
func backoff(lo, hi time.Duration, n int) time.Duration {
	b := lo
	for i := 1; i < n && b < hi; i++ {
		b *= 2
	}
	return min(b, hi)
}

// countSince counts the times within window before now.
func countSince(ts []time.Time, now time.Time, window time.Duration) int {
	n := 0
	for _, t := range ts {
		if now.Sub(t) < window {
			n++
		}
	}
	return n
}
