package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/supervisor"
)

// resyncCmd starts a member's resync (`resync MEMBER`, the default subcommand, also spelt
// `resync run MEMBER`) or follows one (`resync watch`). A member is host:port, so it never
// reads as the word "watch".
type resyncCmd struct {
	Start resyncRunCmd   `cmd:"" name:"run" default:"withargs" help:"Resync MEMBER from scratch (initial sync): POST /v1/resync/MEMBER. The default: 'resync MEMBER' is 'resync run MEMBER'."`
	Watch resyncWatchCmd `cmd:"" help:"Follow the resync of the sidecar's own member with a progress bar until it ends: exit 0 done, 1 failed or none within --wait, 2 unreachable."`
}

type resyncWatchCmd struct {
	apiFlags
	Wait     time.Duration `default:"1m" help:"How long to wait for a resync to start."`
	Interval time.Duration `default:"500ms" help:"How often to poll the sidecar."`
}

func (c *resyncWatchCmd) Run(e *env) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	var planID string
	deadline := time.Now().Add(c.Wait)
	for {
		r, err := c.status(e.ctx, cl)
		if err != nil {
			return fail(exitUsage, "supervisor resync watch: %v", err)
		}
		rs := r.Resync
		switch {
		case rs == nil || rs.Plan == nil:
			if time.Now().After(deadline) {
				why := "no resync needed"
				if rs != nil {
					why = "refused: " + string(rs.Refused)
				}
				return fail(exitFailed, "supervisor resync watch: no resync of %s's member started within %s (%s)", r.Sidecar, c.Wait, why)
			}
		case planID == "" && rs.Plan.Step.Finished():
			// The last plan that ended: say how, unless a new one starts.
			if time.Now().After(deadline) {
				return planEnd(e, rs.Plan)
			}
		default:
			p := rs.Plan
			if planID != p.ID {
				planID = p.ID
				fmt.Fprintf(e.stdout, "resync %s of %s (%s): old dbpath kept at %s\n", p.ID, p.Member, p.Reason, p.Aside)
			}
			if p.Step.Finished() {
				if bar != nil {
					_ = bar.Finish()
					fmt.Fprintln(e.stdout)
				}
				return planEnd(e, p)
			}
			if p.Step == recovery.StepSync && p.Progress.TotalBytes > 0 {
				if bar == nil {
					bar = progressbar.NewOptions64(p.Progress.TotalBytes, progressbar.OptionSetWriter(e.stdout),
						progressbar.OptionShowBytes(true), progressbar.OptionSetDescription("initial sync"),
						progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionSetPredictTime(true))
				}
				bar.ChangeMax64(p.Progress.TotalBytes)
				_ = bar.Set64(p.Progress.BytesCopied)
			} else if bar == nil {
				fmt.Fprintf(e.stdout, "  %s: step %s\n", time.Now().Format("15:04:05"), p.Step)
			}
		}
		select {
		case <-e.ctx.Done():
			return e.ctx.Err()
		case <-time.After(c.Interval):
		}
	}
}

func (c *resyncWatchCmd) status(ctx context.Context, cl *apiclient.Client) (supervisor.StatusReport, error) {
	var r supervisor.StatusReport
	body, err := cl.Status(ctx)
	if err != nil {
		return r, fmt.Errorf("cannot get the status of the sidecar at %s: %w", cl.URL(), err)
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("%s/v1/status answered something that is not a status report: %w", cl.URL(), err)
	}
	return r, nil
}

func planEnd(e *env, p *recovery.ResyncPlan) error {
	took := p.Finished.Sub(p.Started).Round(time.Second)
	if p.Step == recovery.StepFailed {
		return fail(exitFailed, "resync %s of %s FAILED after %s: %s", p.ID, p.Member, took, p.Error)
	}
	fmt.Fprintf(e.stdout, "resync %s of %s done in %s: SECONDARY, caught up\n", p.ID, p.Member, took)
	return nil
}
