package recovery

import (
	"context"
	"time"
)

// Controller owns a mongod process for its sidecar (the recovery issue, deliverable 1). Start
// brings it up and keeps it up (restarting after a crash, with backoff); Stop brings it down and
// keeps it down until the next Start, which is what fencing relies on: a fenced mongod stays down
// until recovery decides. Implementations: ExecController (mongod as the sidecar's child) and
// CommandController (the user's start/stop/status scripts); the systemd controller follows.
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
