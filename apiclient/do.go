package apiclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/rsguard/rsguard/api"
)

// DoOptions are an action's query parameters.
type DoOptions struct {
	// DryRun asks for the plan only (?dry_run=1).
	DryRun bool
	// Wait is how long the server waits for the executing sidecar (?wait=); zero leaves the
	// server's default (60s). A 202 answer is polled until the action ends or ctx ends.
	Wait time.Duration
	// Detach asks the server not to wait (?wait=0) and returns its pending answer unpolled.
	Detach bool
}

// Final says whether an action state is an end state.
func Final(state string) bool {
	return state == api.StateDone || state == api.StateFailed || state == api.StateRefused
}

// Do runs an action: POST /v1/<action> (resync: /v1/resync/{member}; member is empty for every
// other action). A 202 is polled at /v1/requests/{id} until done, failed or refused, or until
// ctx ends (then the last known result is returned with ctx's error). An answer outside 2xx is
// a *ProblemError; when it carries the refused or failed action, that is returned too.
func (c *Client) Do(ctx context.Context, action, member string, req api.ActionRequest, o DoOptions) (api.ActionResult, error) {
	path := "/v1/" + action
	switch action {
	case api.ActionResync:
		if member == "" {
			return api.ActionResult{}, fmt.Errorf("apiclient: Do resync: no member given")
		}
		path += "/" + url.PathEscape(member)
	case api.ActionSwitchover, api.ActionFailover, api.ActionPause, api.ActionResume, api.ActionAcknowledge:
		if member != "" {
			return api.ActionResult{}, fmt.Errorf("apiclient: Do %s: member %q given, only resync takes one", action, member)
		}
	default:
		return api.ActionResult{}, fmt.Errorf("apiclient: Do: unknown action %q", action)
	}
	q := url.Values{}
	if o.DryRun {
		q.Set("dry_run", "1")
	}
	var extra time.Duration
	switch {
	case o.Detach:
		q.Set("wait", "0s")
	case o.Wait > 0:
		q.Set("wait", o.Wait.String())
		extra = o.Wait
	default:
		extra = 60 * time.Second // the server's default wait
	}
	body, err := json.Marshal(req)
	if err != nil {
		return api.ActionResult{}, fmt.Errorf("apiclient: Do %s: %w", action, err)
	}
	code, data, err := c.call(ctx, http.MethodPost, path, q, body, extra)
	if err != nil {
		if pe := AsProblem(err); pe != nil && pe.Problem.Result != nil {
			return *pe.Problem.Result, err
		}
		return api.ActionResult{}, err
	}
	var res api.ActionResult
	if err := json.Unmarshal(data, &res); err != nil {
		return res, fmt.Errorf("apiclient: POST %s: the answer is not an action result: %w", c.endpoint(path, q), err)
	}
	if code != http.StatusAccepted || o.Detach {
		return res, nil
	}
	return c.follow(ctx, res)
}

// follow polls a pending action until it ends or ctx ends. A poll that gets no answer is
// retried at the next tick (the sidecar may be restarting); an error answer ends the follow.
func (c *Client) follow(ctx context.Context, res api.ActionResult) (api.ActionResult, error) {
	if res.ID == "" {
		return res, fmt.Errorf("apiclient: %s was accepted (202) without a request id to follow", res.Action)
	}
	t := time.NewTicker(c.poll)
	defer t.Stop()
	for !Final(res.State) {
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("apiclient: request %s (%s) still %s: %w", res.ID, res.Action, res.State, ctx.Err())
		case <-t.C:
		}
		next, err := c.Request(ctx, res.ID)
		if err != nil {
			if ctx.Err() != nil {
				return res, fmt.Errorf("apiclient: request %s (%s) still %s: %w", res.ID, res.Action, res.State, ctx.Err())
			}
			if AsProblem(err) != nil {
				return res, fmt.Errorf("apiclient: following request %s: %w", res.ID, err)
			}
			continue
		}
		res = next
	}
	return res, nil
}
