package recovery

import (
	"fmt"
	"strings"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// Status is Classify's result: the kind, the remedy it calls for, and the evidence, in words a
// DBA can check against mongod's own output.
type Status struct {
	Host     string    `json:"host"`
	Kind     Kind      `json:"kind"`
	Remedy   Remedy    `json:"remedy"`
	Evidence []string  `json:"evidence"`
	At       time.Time `json:"at"`
}

// unrecoverable are the fatal messages of a rollback mongod cannot finish (spec §7.7 "Limits":
// the rollback time limit, the sync source's RBID changing under it, UnrecoverableRollbackError).
var unrecoverable = []string{"UnrecoverableRollbackError", "rollbackTimeLimitSecs", "rollback id changed", "RBID changed"}

// corruption are the messages of a mongod that cannot read its own data files: WiredTiger's
// errors and panics and checksum failures, and the emulator's store that is not a database.
var corruption = []string{"WiredTiger error", "WT_PANIC", "WT_ERROR", "checksum", "corrupt", "invalid database"}

// Classify says what the member is going through. It checks the kinds in order, from the ones
// nothing but an operator or a resync fixes to the healthy end, and never guesses: without a
// process controller and without an answer from mongod it says Unknown.
func Classify(o Observation, opts Options) Status {
	st := Status{Host: o.Host, At: o.ObservedAt}
	set := func(k Kind, ev ...string) Status {
		st.Kind, st.Remedy, st.Evidence = k, k.Remedy(), ev
		return st
	}
	p := o.Process
	if o.DBPathProblem != "" {
		return set(DBPathUnusable, "dbpath: "+o.DBPathProblem)
	}
	if p.Known && !p.Running || !o.Reachable {
		if fatal := unrecoverableIn(p.LastFatal); fatal {
			return set(UnrecoverableRollback, "mongod exited: "+p.LastFatal)
		}
		if p.Known && p.RecentExits >= max(opts.CrashLoopExits, 2) {
			if containsAny(p.LastFatal, corruption) {
				return set(DataCorrupt, fmt.Sprintf("%d exits in a row, the last one on unreadable data files", p.RecentExits), lastFatal(p))
			}
			if p.LastState == topology.StateRollback {
				return set(UnrecoverableRollback, fmt.Sprintf("%d exits in a row, the last one out of ROLLBACK", p.RecentExits))
			}
			return set(CrashLooping, fmt.Sprintf("%d recent exits", p.RecentExits), lastFatal(p))
		}
	}
	if !o.Reachable {
		switch {
		case p.Known && !p.Running:
			return set(Restarting, "mongod is not running", lastFatal(p))
		case p.Known && o.ObservedAt.Sub(p.StartedAt) < opts.StartGrace:
			return set(Restarting, fmt.Sprintf("mongod started %s ago and does not answer yet", o.ObservedAt.Sub(p.StartedAt).Round(time.Second)))
		}
		return set(Unknown, "mongod does not answer")
	}
	switch o.State {
	case topology.StateRemoved:
		return set(Removed, "mongod says REMOVED: it is not in the replica set's config")
	case topology.StateRollback:
		return set(RollbackInProgress, "mongod is in ROLLBACK")
	}
	if o.TooStale {
		return set(TooStale, fmt.Sprintf("mongod is %s with tooStale: no sync source still holds its newest entry", o.State))
	}
	if o.State == topology.StateStartup2 && o.InitialSync != nil {
		return initialSync(st, o, opts)
	}
	if o.RollbackFiles > 0 {
		return set(RolledBack, fmt.Sprintf("%d rollback file(s) not archived yet", o.RollbackFiles))
	}
	switch o.State {
	case topology.StatePrimary:
		return set(Healthy, "PRIMARY")
	case topology.StateSecondary:
		if opts.MaxLag > 0 && o.Lag > opts.MaxLag {
			return set(CatchingUp, fmt.Sprintf("SECONDARY %s behind the primary (more than %s)", o.Lag, opts.MaxLag))
		}
		return set(Healthy, fmt.Sprintf("SECONDARY %s behind the primary", o.Lag))
	case topology.StateStartup, topology.StateStartup2, topology.StateRecovering:
		return set(CatchingUp, fmt.Sprintf("mongod is %s", o.State))
	}
	return set(Unknown, fmt.Sprintf("mongod is %s", o.State))
}

func initialSync(st Status, o Observation, opts Options) Status {
	is := o.InitialSync
	ev := []string{fmt.Sprintf("STARTUP2, initial sync attempt %d", is.FailedAttempts+1)}
	if is.ApproxTotalBytes > 0 {
		ev = append(ev, fmt.Sprintf("%.0f%% copied (%d of %d bytes)", 100*float64(is.BytesCopied)/float64(is.ApproxTotalBytes), is.BytesCopied, is.ApproxTotalBytes))
	}
	k := InitialSyncing
	switch {
	case is.MaxAttempts > 0 && is.FailedAttempts >= is.MaxAttempts:
		k = InitialSyncStalled
		ev = append(ev, fmt.Sprintf("%d of %d attempts failed", is.FailedAttempts, is.MaxAttempts))
	case opts.InitialSyncStall > 0 && !is.Progress.IsZero() && o.ObservedAt.Sub(is.Progress) >= opts.InitialSyncStall:
		k = InitialSyncStalled
		ev = append(ev, fmt.Sprintf("no progress for %s", o.ObservedAt.Sub(is.Progress).Round(time.Second)))
	}
	st.Kind, st.Remedy, st.Evidence = k, k.Remedy(), ev
	return st
}

func unrecoverableIn(msg string) bool { return containsAny(msg, unrecoverable) }

func containsAny(msg string, subs []string) bool {
	for _, s := range subs {
		if msg != "" && strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func lastFatal(p Process) string {
	if p.LastFatal == "" {
		return "no fatal error logged"
	}
	return "last fatal error: " + p.LastFatal
}
