package recovery

import (
	"fmt"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// ResyncReason is the reason code of a resync decision: why it starts, or why it is refused.
type ResyncReason string

// Resync reasons. Every refusal names what must change for the resync to start.
const (
	// ResyncStart: the member needs a resync (its Kind's remedy) and every guard passed.
	ResyncStart ResyncReason = "resync_needed"
	// RefusedResyncNotNeeded: the member's kind does not call for a resync.
	RefusedResyncNotNeeded ResyncReason = "refused_resync_not_needed"
	// RefusedResyncDisabled: recovery.resync is off.
	RefusedResyncDisabled ResyncReason = "refused_resync_disabled"
	// RefusedResyncDryRun: recovery.resync is dry_run: the decision is logged and audited only.
	RefusedResyncDryRun ResyncReason = "refused_resync_dry_run"
	// RefusedResyncNoController: without a process controller the sidecar cannot stop and
	// start its mongod.
	RefusedResyncNoController ResyncReason = "refused_resync_no_controller"
	// RefusedResyncNoPrimary: no healthy primary (other than the member) holds the set's data:
	// the member may hold the only copy of majority-committed writes.
	RefusedResyncNoPrimary ResyncReason = "refused_resync_no_primary"
	// RefusedResyncFreshest: the member's last optime is not behind the primary's: it may hold
	// writes nobody else has.
	RefusedResyncFreshest ResyncReason = "refused_resync_freshest_data"
	// RefusedResyncMajority: stopping the member would leave fewer healthy voters than a
	// majority: the primary would step down (spec §5.1) and the set lose its writes.
	RefusedResyncMajority ResyncReason = "refused_resync_would_lose_majority"
	// RefusedResyncFailover: a failover is in progress (an action in flight, or the election
	// quiet period after a new term).
	RefusedResyncFailover ResyncReason = "refused_resync_failover_in_progress"
	// RefusedResyncElsewhere: another member of the set is resyncing (one at a time).
	RefusedResyncElsewhere ResyncReason = "refused_resync_other_member_resyncing"
	// RefusedResyncWindow: outside the configured maintenance windows.
	RefusedResyncWindow ResyncReason = "refused_resync_outside_window"
	// RefusedResyncDisk: the file system cannot hold a second copy of the data.
	RefusedResyncDisk ResyncReason = "refused_resync_disk_short"
)

// Refused reports whether r refuses the resync.
func (r ResyncReason) Refused() bool { return r != ResyncStart }

// ResyncInput is what the resync decision looks at; the supervisor fills it from its views and
// the shared memory. Nothing in it is read from a clock or a disk by the decision itself.
type ResyncInput struct {
	Self   string
	Status Status // Classify's result for Self
	// Mode is recovery.resync: "auto", "dry_run" or "off".
	Mode          string
	HasController bool
	// Primary is the healthy primary every quorum sees ("" if none), PrimaryOpTime its newest
	// optime; SelfOpTime the member's last known optime (zero when never known).
	Primary       string
	PrimaryOpTime topology.OpTime
	SelfOpTime    topology.OpTime
	// FailoverBusy says why a failover is in progress ("" when none).
	FailoverBusy string
	// Voters is the number of voting members in the set's config, VotersUpWithoutSelf how many
	// of them other than the member answer heartbeats (health 1). Voters 0 skips the check.
	Voters, VotersUpWithoutSelf int
	// ResyncingElsewhere is another member holding the set's resync lease ("" when none).
	ResyncingElsewhere string
	// InWindow: now is inside a maintenance window (true when none is configured).
	InWindow bool
	// DiskFree and DiskNeeded are bytes; DiskNeeded 0 skips the check.
	DiskFree, DiskNeeded int64
	Now                  time.Time
	// Requested: an operator asked for this resync (POST /v1/resync). It needs no remedy and
	// ignores recovery.resync's mode and windows, which govern automatic resyncs; every guard
	// that protects data still holds, and a member level with the primary may be resynced (the
	// primary has all it has).
	Requested bool
}

// ResyncDecision is the outcome: start or not, why, and the evidence.
type ResyncDecision struct {
	Start    bool         `json:"start"`
	Reason   ResyncReason `json:"reason"`
	Evidence []string     `json:"evidence,omitempty"`
}

// DecideResync applies the guards of the recovery issue in order, the ones about data first: a
// member is never resynced when it may hold the only copy of majority-committed writes.
func DecideResync(in ResyncInput) ResyncDecision {
	no := func(r ResyncReason, format string, args ...any) ResyncDecision {
		return ResyncDecision{Reason: r, Evidence: append(append([]string{}, in.Status.Evidence...), fmt.Sprintf(format, args...))}
	}
	if in.Status.Remedy != RemedyResync && !in.Requested {
		return ResyncDecision{Reason: RefusedResyncNotNeeded, Evidence: in.Status.Evidence}
	}
	switch {
	case in.Primary == "" || in.Primary == in.Self:
		return no(RefusedResyncNoPrimary, "no healthy primary other than %s: it may hold the only copy of majority-committed writes", in.Self)
	case in.Requested && in.SelfOpTime.After(in.PrimaryOpTime):
		return no(RefusedResyncFreshest, "%s's last optime %s is ahead of the primary's %s: it holds writes nobody else has", in.Self, in.SelfOpTime, in.PrimaryOpTime)
	case !in.Requested && !in.SelfOpTime.IsNull() && !in.PrimaryOpTime.After(in.SelfOpTime):
		return no(RefusedResyncFreshest, "%s's last optime %s is not behind the primary's %s: it may hold writes nobody else has", in.Self, in.SelfOpTime, in.PrimaryOpTime)
	case in.Voters > 0 && in.VotersUpWithoutSelf < in.Voters/2+1:
		return no(RefusedResyncMajority, "stopping %s leaves %d of %d voters up, a majority needs %d", in.Self, in.VotersUpWithoutSelf, in.Voters, in.Voters/2+1)
	case in.Mode == "off" && !in.Requested:
		return no(RefusedResyncDisabled, "recovery.resync is off")
	case !in.HasController:
		return no(RefusedResyncNoController, "no process controller (process.controller): the sidecar cannot stop and start its mongod")
	case in.FailoverBusy != "":
		return no(RefusedResyncFailover, "a failover is in progress: %s", in.FailoverBusy)
	case in.ResyncingElsewhere != "":
		return no(RefusedResyncElsewhere, "%s is resyncing: one member at a time", in.ResyncingElsewhere)
	case !in.InWindow && !in.Requested:
		return no(RefusedResyncWindow, "outside recovery.resync_windows")
	case in.DiskNeeded > 0 && in.DiskFree < in.DiskNeeded:
		return no(RefusedResyncDisk, "the dbpath's file system has %s free, a resync keeps the old copy and needs %s more", bytesText(in.DiskFree), bytesText(in.DiskNeeded-in.DiskFree))
	case in.Mode == "dry_run" && !in.Requested:
		return no(RefusedResyncDryRun, "recovery.resync is dry_run: would resync %s from %s", in.Self, in.Primary)
	}
	return ResyncDecision{Start: true, Reason: ResyncStart,
		Evidence: append(append([]string{}, in.Status.Evidence...), fmt.Sprintf("resync %s from the set (primary %s)", in.Self, in.Primary))}
}

// bytesText prints n in the largest binary unit that keeps it above 1.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
