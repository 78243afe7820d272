package main

import (
	"context"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
)

// actionFlags are the flags of every action verb.
type actionFlags struct {
	apiFlags
	Actor string `env:"USER" help:"Your name for the audit log."`
	Why   string `placeholder:"TEXT" help:"Why you act: kept in the audit log and the history."`
}

// waitFlags are the flags of the actions that run on an executor sidecar.
type waitFlags struct {
	DryRun bool          `name:"dry-run" help:"Print the plan with its reason codes; do nothing."`
	Wait   time.Duration `default:"60s" help:"How long to wait for the executing sidecar; 0 returns at once with the pending request."`
}

type switchoverCmd struct {
	actionFlags
	waitFlags
	To string `placeholder:"HOST" help:"The member to hand the primary to (default: the best ranked candidate)."`
}

func (c *switchoverCmd) Run(e *env) error {
	return c.do(e, api.ActionSwitchover, "", api.ActionRequest{To: c.To}, c.waitFlags)
}

type failoverCmd struct {
	actionFlags
	waitFlags
	To    string `required:"" placeholder:"HOST" help:"The member to make primary."`
	Force bool   `help:"Skip the candidate's lag and the primary-is-healthy checks (never MongoDB's own election rules)."`
}

func (c *failoverCmd) Run(e *env) error {
	return c.do(e, api.ActionFailover, "", api.ActionRequest{To: c.To, Force: c.Force}, c.waitFlags)
}

type resyncRunCmd struct {
	actionFlags
	waitFlags
	Member string `arg:"" placeholder:"MEMBER" help:"The member (host:port) to resync from scratch (initial sync)."`
}

func (c *resyncRunCmd) Run(e *env) error {
	return c.do(e, api.ActionResync, c.Member, api.ActionRequest{}, c.waitFlags)
}

type pauseCmd struct{ actionFlags }

func (c *pauseCmd) Run(e *env) error {
	return c.do(e, api.ActionPause, "", api.ActionRequest{}, waitFlags{})
}

type resumeCmd struct{ actionFlags }

func (c *resumeCmd) Run(e *env) error {
	return c.do(e, api.ActionResume, "", api.ActionRequest{}, waitFlags{})
}

type ackCmd struct{ actionFlags }

func (c *ackCmd) Run(e *env) error {
	return c.do(e, api.ActionAcknowledge, "", api.ActionRequest{}, waitFlags{})
}

// do runs an action and prints its plan and result. Exit 0 done or planned (or pending with
// --wait 0), 1 refused or failed (or not ended in time), 2 unreachable, auth refused or a bad
// request.
func (f *actionFlags) do(e *env, action, member string, req api.ActionRequest, w waitFlags) error {
	cl, err := f.client()
	if err != nil {
		return err
	}
	req.Actor, req.Why = f.Actor, f.Why
	opts := apiclient.DoOptions{DryRun: w.DryRun, Wait: w.Wait, Detach: w.Wait == 0 && action != api.ActionPause &&
		action != api.ActionResume && action != api.ActionAcknowledge}
	ctx := e.ctx
	if !opts.Detach {
		// The server waits up to Wait; a 202 is then followed for as long again.
		wait := w.Wait
		if wait <= 0 {
			wait = 60 * time.Second
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*wait+f.Timeout)
		defer cancel()
	}
	res, err := cl.Do(ctx, action, member, req, opts)
	if err != nil {
		if res.State == "" {
			return f.apiError(e, action, err)
		}
		// A refused or failed action: its plan and reason, then the problem.
		if f.json() {
			if pe := apiclient.AsProblem(err); pe != nil {
				_ = writeJSON(e.stdout, pe.Problem)
			} else {
				_ = writeJSON(e.stdout, res)
			}
		} else {
			writeResult(e.stdout, res)
		}
		return fail(exitFailed, "supervisor %s: %v", action, err)
	}
	if f.json() {
		_ = writeJSON(e.stdout, res)
	} else {
		writeResult(e.stdout, res)
	}
	switch res.State {
	case api.StateRefused, api.StateFailed:
		return &exitError{code: exitFailed}
	case api.StatePending, api.StateRunning:
		if !opts.Detach {
			return fail(exitFailed, "supervisor %s: request %s is still %s", action, res.ID, res.State)
		}
	}
	return nil
}
