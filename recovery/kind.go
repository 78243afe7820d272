package recovery

// Kind is what a member is going through, from the recovery point of view: a closed list, each
// with the remedy it calls for.
type Kind int

// The kinds, from the most to the least urgent; Classify checks them in this order.
const (
	// Unknown: not enough is known yet (no observation of the process or of mongod).
	Unknown Kind = iota
	// DBPathUnusable: the dbpath cannot be used (disk full, permissions, mongod.lock held by
	// another process): restarting mongod cannot help, an operator must.
	DBPathUnusable
	// UnrecoverableRollback: mongod gave up a rollback (UnrecoverableRollbackError, the
	// rollbackTimeLimitSecs limit, the source's RBID changed) and shuts down, or it crash-loops
	// out of ROLLBACK (spec §7.7 "Limits"): the documented remedy is a resync (§7.5).
	UnrecoverableRollback
	// DataCorrupt: the process keeps exiting because its data files cannot be read (a
	// WiredTiger error or panic, a checksum failure, a file that is not a database): its
	// data are lost to it, and the remedy is a resync from the set (spec §7.5).
	DataCorrupt
	// CrashLooping: the process keeps exiting for another reason: an operator must look.
	CrashLooping
	// Restarting: the process is down or starting and has not answered yet.
	Restarting
	// Removed: the member is not in the set's config (REMOVED, e.g. after a force reconfig):
	// it is to be re-added once healthy.
	Removed
	// RollbackInProgress: ROLLBACK (spec §7.7): wait, it ends in SECONDARY or in a shutdown.
	RollbackInProgress
	// TooStale: RECOVERING with tooStale (spec §7.5): only a resync brings it back, unless a
	// member that still holds its last entry returns.
	TooStale
	// InitialSyncStalled: STARTUP2 with no progress for Options.InitialSyncStall, or out of
	// attempts (spec §7.6).
	InitialSyncStalled
	// InitialSyncing: STARTUP2 and making progress.
	InitialSyncing
	// RolledBack: the member is back, but rollback files it wrote are not archived yet.
	RolledBack
	// CatchingUp: RECOVERING, STARTUP or STARTUP2 after a restart (spec §7.8), or a SECONDARY
	// still further behind than Options.MaxLag.
	CatchingUp
	// Healthy: PRIMARY, or a SECONDARY within Options.MaxLag, nothing left to do.
	Healthy
	numKinds
)

// Remedy is what a kind calls for; the planner turns it into steps.
type Remedy string

// Remedies.
const (
	RemedyNone     Remedy = "none"
	RemedyWait     Remedy = "wait"
	RemedyArchive  Remedy = "archive_rollback_files"
	RemedyResync   Remedy = "resync"
	RemedyReAdd    Remedy = "re_add"
	RemedyOperator Remedy = "operator"
)

var kindInfo = [numKinds]struct {
	name   string
	remedy Remedy
}{
	Unknown:               {"unknown", RemedyWait},
	DBPathUnusable:        {"dbpath_unusable", RemedyOperator},
	UnrecoverableRollback: {"unrecoverable_rollback", RemedyResync},
	DataCorrupt:           {"data_corrupt", RemedyResync},
	CrashLooping:          {"crash_looping", RemedyOperator},
	Restarting:            {"restarting", RemedyWait},
	Removed:               {"removed", RemedyReAdd},
	RollbackInProgress:    {"rollback_in_progress", RemedyWait},
	TooStale:              {"too_stale", RemedyResync},
	InitialSyncStalled:    {"initial_sync_stalled", RemedyResync},
	InitialSyncing:        {"initial_syncing", RemedyWait},
	RolledBack:            {"rolled_back", RemedyArchive},
	CatchingUp:            {"catching_up", RemedyWait},
	Healthy:               {"healthy", RemedyNone},
}

func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "unknown"
	}
	return kindInfo[k].name
}

// Remedy is what k calls for.
func (k Kind) Remedy() Remedy {
	if k < 0 || k >= numKinds {
		return RemedyWait
	}
	return kindInfo[k].remedy
}

// MarshalText makes a Kind its name in JSON and logs.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
