package recovery

import (
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// staleInput is a member too stale to catch up, with a healthy primary ahead of it and every
// guard open: the one case that starts a resync.
func staleInput() ResyncInput {
	now := time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC)
	return ResyncInput{
		Self:          "127.0.0.2:27017",
		Status:        Status{Kind: TooStale, Remedy: RemedyResync, Evidence: []string{"RECOVERING with tooStale"}},
		Mode:          "auto",
		HasController: true,
		Primary:       "127.0.0.3:27017",
		PrimaryOpTime: topology.MakeOpTime(uint32(now.Unix()), 1, 2),
		SelfOpTime:    topology.MakeOpTime(uint32(now.Unix())-600, 1, 1),
		InWindow:      true,
		Voters:        3, VotersUpWithoutSelf: 2,
		DiskFree: 10 << 30, DiskNeeded: 1 << 30,
		Now: now,
	}
}

// Every guard, each refusing with its own reason code; the must-not-fire cases come first and
// the data guards before the others.
func TestDecideResyncGuards(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*ResyncInput)
		want ResyncReason
		says string
	}{
		{"healthy member", func(in *ResyncInput) { in.Status = Status{Kind: Healthy, Remedy: RemedyNone} }, RefusedResyncNotNeeded, ""},
		{"catching up", func(in *ResyncInput) { in.Status = Status{Kind: CatchingUp, Remedy: RemedyWait} }, RefusedResyncNotNeeded, ""},
		{"no primary", func(in *ResyncInput) { in.Primary = "" }, RefusedResyncNoPrimary, "only copy"},
		{"itself the primary", func(in *ResyncInput) { in.Primary = in.Self }, RefusedResyncNoPrimary, "only copy"},
		{"freshest data", func(in *ResyncInput) { in.SelfOpTime = in.PrimaryOpTime }, RefusedResyncFreshest, "not behind"},
		{"newer term than the primary", func(in *ResyncInput) {
			in.SelfOpTime = topology.MakeOpTime(in.PrimaryOpTime.Secs()-10, 1, 3)
		}, RefusedResyncFreshest, "not behind"},
		{"stopping it loses the majority", func(in *ResyncInput) { in.Voters, in.VotersUpWithoutSelf = 3, 1 }, RefusedResyncMajority, "leaves 1 of 3 voters up"},
		{"off", func(in *ResyncInput) { in.Mode = "off" }, RefusedResyncDisabled, "off"},
		{"no controller", func(in *ResyncInput) { in.HasController = false }, RefusedResyncNoController, "process.controller"},
		{"failover in progress", func(in *ResyncInput) { in.FailoverBusy = "step_up in flight" }, RefusedResyncFailover, "step_up in flight"},
		{"another member resyncing", func(in *ResyncInput) { in.ResyncingElsewhere = "127.0.0.4:27017" }, RefusedResyncElsewhere, "127.0.0.4:27017"},
		{"outside the window", func(in *ResyncInput) { in.InWindow = false }, RefusedResyncWindow, "resync_windows"},
		{"disk short", func(in *ResyncInput) { in.DiskFree, in.DiskNeeded = 1<<30, 3<<30 }, RefusedResyncDisk, "needs 2.0 GiB more"},
		{"dry run", func(in *ResyncInput) { in.Mode = "dry_run" }, RefusedResyncDryRun, "would resync"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := staleInput()
			tc.edit(&in)
			d := DecideResync(in)
			if d.Start || d.Reason != tc.want || !strings.Contains(strings.Join(d.Evidence, "; "), tc.says) {
				t.Errorf("got %+v, want refused %s saying %q", d, tc.want, tc.says)
			}
		})
	}
}

func TestDecideResyncStarts(t *testing.T) {
	for _, k := range []Kind{TooStale, UnrecoverableRollback, InitialSyncStalled} {
		in := staleInput()
		in.Status = Status{Kind: k, Remedy: k.Remedy()}
		if d := DecideResync(in); !d.Start || d.Reason != ResyncStart {
			t.Errorf("%s: %+v", k, d)
		}
	}
	in := staleInput()
	in.SelfOpTime = topology.OpTime{} // a wiped member never reported an optime
	if d := DecideResync(in); !d.Start {
		t.Errorf("unknown optime: %+v", d)
	}
}

// An operator's resync of a healthy member: no remedy needed, mode and window ignored, but the
// data guards hold. The must-not-fire cases first.
func TestDecideResyncRequested(t *testing.T) {
	healthy := func() ResyncInput {
		in := staleInput()
		in.Status = Status{Kind: Healthy, Remedy: RemedyNone}
		in.SelfOpTime = in.PrimaryOpTime // level with the primary: an idle set
		in.Requested = true
		return in
	}
	for _, tc := range []struct {
		name string
		edit func(*ResyncInput)
		want ResyncReason
	}{
		{"ahead of the primary", func(in *ResyncInput) {
			in.SelfOpTime = topology.MakeOpTime(in.PrimaryOpTime.Secs()+1, 1, 2)
		}, RefusedResyncFreshest},
		{"itself the primary", func(in *ResyncInput) { in.Primary = in.Self }, RefusedResyncNoPrimary},
		{"stopping it loses the majority", func(in *ResyncInput) { in.Voters, in.VotersUpWithoutSelf = 3, 1 }, RefusedResyncMajority},
		{"another member resyncing", func(in *ResyncInput) { in.ResyncingElsewhere = "127.0.0.4:27017" }, RefusedResyncElsewhere},
		{"no controller", func(in *ResyncInput) { in.HasController = false }, RefusedResyncNoController},
	} {
		in := healthy()
		tc.edit(&in)
		if d := DecideResync(in); d.Start || d.Reason != tc.want {
			t.Errorf("%s: got %+v, want refused %s", tc.name, d, tc.want)
		}
	}
	in := healthy()
	in.Mode, in.InWindow = "off", false
	if d := DecideResync(in); !d.Start {
		t.Errorf("requested resync of a healthy member, mode off, outside the window: %+v", d)
	}
	in.Requested = false
	if d := DecideResync(in); d.Start {
		t.Errorf("the same member without a request resyncs: %+v", d)
	}
}
