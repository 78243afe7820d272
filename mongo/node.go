package mongo

import (
	"context"
	"time"
)

// Node is one mongod as a sidecar drives it. DriverNode is the real implementation; mongotest.Node
// is the fake for supervisor tests. All methods are safe for concurrent use. Errors name the
// command and the host and wrap either a *CommandError (the server said no) or a transport error
// (see Classify).
type Node interface {
	// Addr is the mongod's host:port as dialled.
	Addr() string
	// Hello runs hello (isMaster on servers that predate it).
	Hello(ctx context.Context) (Hello, error)
	// Status runs replSetGetStatus. A REMOVED or never-initiated member is a state, not a
	// failure: it returns a Status with MyState REMOVED or STARTUP and no error.
	Status(ctx context.Context) (Status, error)
	// Config runs replSetGetConfig.
	Config(ctx context.Context) (ReplConfig, error)
	// StepDown runs replSetStepDown (spec §6.1). catchUp zero leaves secondaryCatchUpPeriodSecs
	// to mongod's default. A connection closed by the server after the command was sent counts
	// as success (older servers dropped connections on stepdown); ExceededTimeLimit (262) stays
	// an error.
	StepDown(ctx context.Context, secs int, catchUp time.Duration, force bool) error
	// StepUp runs replSetStepUp (spec §6.3) and waits for the election.
	StepUp(ctx context.Context, skipDryRun bool) error
	// AbortCatchUp runs replSetAbortPrimaryCatchUp (spec §6.8) on a primary-elect in catch-up.
	AbortCatchUp(ctx context.Context) error
	// Freeze runs replSetFreeze (spec §6.2); secs 0 unfreezes.
	Freeze(ctx context.Context, secs int) error
	// Reconfig sends cfg.Bumped(): cfg's edits applied to the raw document it was read from,
	// version + 1 (spec §4.5, §4.6).
	Reconfig(ctx context.Context, cfg ReplConfig, force bool) error
	// WriteProbe upserts {_id: id, at, seq} into rsguard.probe with w:"majority" and a wtimeout
	// inside ctx's deadline, and returns the round-trip latency. ClassifyProbe explains errors.
	WriteProbe(ctx context.Context, id string) (time.Duration, error)
	// JournalProbe upserts {_id: id+".j", at, seq} into rsguard.probe with w:1 j:true and
	// maxTimeMS inside ctx's deadline: evidence local to the primary (its disk, its write
	// path), untouched by lagging secondaries. ClassifyProbe explains errors.
	JournalProbe(ctx context.Context, id string) (time.Duration, error)
	// Shutdown runs shutdown (spec §6.9). The connection closing is success.
	Shutdown(ctx context.Context, force bool, timeout time.Duration) error
	// Close releases the connections.
	Close(ctx context.Context) error
}

// Probe namespace: a dedicated database so that the probe never touches user data.
const (
	ProbeDatabase   = "rsguard"
	ProbeCollection = "probe"
)

// DefaultProbeTimeout bounds a WriteProbe whose context has no deadline.
const DefaultProbeTimeout = 5 * time.Second

var _ Node = (*DriverNode)(nil)
