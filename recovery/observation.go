package recovery

import (
	"time"

	"github.com/rsguard/rsguard/topology"
)

// Observation is what one sidecar knows of its member at one instant. The process fields come
// from the process controller, the mongod fields from hello/replSetGetStatus, the disk fields
// from a look at the dbpath. Zero values mean "not known", never "fine".
type Observation struct {
	Host string
	// Process is what the controller says; Known false without a controller.
	Process Process
	// Mongod answered at ObservedAt (Reachable) with State; the rest is from replSetGetStatus.
	Reachable bool
	State     topology.MemberState
	// TooStale is replSetGetStatus tooStale (spec §7.5).
	TooStale bool
	// Lag is how far the member's applied optime trails the primary's; zero when unknown.
	Lag time.Duration
	// InitialSync is replSetGetStatus initialSyncStatus while in STARTUP2 (spec §7.6); nil if
	// absent.
	InitialSync *InitialSync
	// RollbackFiles is how many rollback files (<dbpath>/rollback, spec §7.7 step 5) are not
	// archived yet.
	RollbackFiles int
	// DBPathProblem says why the dbpath is unusable (disk full, permission denied, lock held by
	// another process); empty when fine or unknown.
	DBPathProblem string
	ObservedAt    time.Time
}

// Process is the process controller's account of mongod.
type Process struct {
	Known   bool
	Running bool
	// Pid is the running process's id when the controller knows it (exec); 0 otherwise.
	Pid int
	// StartedAt is when the current (or last) process started.
	StartedAt time.Time
	// RecentExits counts the exits within Options.CrashWindow.
	RecentExits int
	// LastFatal is the last fatal error mongod logged or exited with (e.g.
	// "UnrecoverableRollbackError: ..."), empty if none.
	LastFatal string
	// LastState is the last member state seen before the process last exited.
	LastState topology.MemberState
}

// InitialSync is the part of initialSyncStatus the classification needs.
type InitialSync struct {
	FailedAttempts int
	MaxAttempts    int
	// Progress is the last time any counter (documents or bytes copied, ops applied) moved.
	Progress time.Time
	// BytesCopied and ApproxTotalBytes give the fraction done (5.2+ fields), zero if unknown.
	BytesCopied, ApproxTotalBytes int64
}

// Options are the thresholds of the classification.
type Options struct {
	// CrashLoopExits: this many exits within the controller's window make a crash loop.
	CrashLoopExits int
	// InitialSyncStall: an initial sync without progress for this long is stalled.
	InitialSyncStall time.Duration
	// MaxLag: a SECONDARY further behind is still catching up.
	MaxLag time.Duration
	// StartGrace: a process started this recently and not answering yet is restarting, not
	// hung.
	StartGrace time.Duration
}

// DefaultOptions are the documented defaults.
func DefaultOptions() Options {
	return Options{CrashLoopExits: 3, InitialSyncStall: 10 * time.Minute, MaxLag: 10 * time.Second, StartGrace: time.Minute}
}
