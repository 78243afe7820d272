package drill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
)

// blockedAntiFlap is the reason code of a sidecar holding automatic failover after a recent one.
const blockedAntiFlap = "anti_flap"

// prepare makes every run start from the same state: it waits until the set is healthy (one
// primary, every other member SECONDARY or ARBITER) and lifts the anti-flap block a previous
// run's failover left, as an operator would with `supervisor ack` (audited, actor "drill").
func (r *Runner) prepare(ctx context.Context) ([]Member, error) {
	var ms []Member
	var unhealthy string
	err := r.within(ctx, r.opts.WaitTimeout, func(ctx context.Context) error {
		return until(ctx, r.opts.Poll, "a healthy set", func(ctx context.Context) (bool, error) {
			var err error
			ms, err = r.target.Members(ctx)
			if err != nil {
				return false, err
			}
			unhealthy = unhealthyMembers(ms)
			return unhealthy == "", nil
		})
	})
	if err != nil {
		if unhealthy != "" {
			return nil, fmt.Errorf("the set is not healthy before the run (%s): %w", unhealthy, err)
		}
		return nil, fmt.Errorf("reading the set: %w", err)
	}
	if err := r.within(ctx, r.opts.WaitTimeout, r.acknowledge); err != nil {
		return ms, err
	}
	if s, ok := r.target.(Settler); ok { // target_settle.go
		if err := r.within(ctx, r.opts.WaitTimeout, s.WaitSettled); err != nil {
			return nil, fmt.Errorf("the sidecars did not settle before the run: %w", err)
		}
	}
	return ms, nil
}

// unhealthyMembers says what is wrong with ms, "" when nothing is.
func unhealthyMembers(ms []Member) string {
	var bad []string
	primaries := 0
	for _, m := range ms {
		switch m.Role {
		case RolePrimary:
			primaries++
		case RoleSecondary, RoleArbiter:
		default:
			bad = append(bad, m.Host+" is "+m.State)
		}
	}
	if primaries != 1 {
		bad = append(bad, fmt.Sprintf("%d primaries", primaries))
	}
	return strings.Join(bad, ", ")
}

// acknowledge lifts an anti-flap block and waits until no sidecar reports one. A sidecar that
// does not answer is left out: a scenario may have been what stopped it, and the run will say.
func (r *Runner) acknowledge(ctx context.Context) error {
	asked := false
	return until(ctx, r.opts.Poll, "the anti-flap block to be lifted", func(ctx context.Context) (bool, error) {
		var blocked *Sidecar
		for _, s := range r.target.Sidecars() {
			c, err := s.Client.Cluster(ctx)
			if err == nil && slices.Contains(c.AutomaticFailover.Blocked, blockedAntiFlap) {
				blocked = &s
				break
			}
		}
		if blocked == nil {
			return true, nil
		}
		if asked {
			return false, nil // the acknowledgement travels by gossip to the others
		}
		_, err := blocked.Client.Do(ctx, api.ActionAcknowledge, "", api.ActionRequest{Actor: "drill", Why: "drill: start the next run from a clean state"}, apiclient.DoOptions{})
		if pe := apiclient.AsProblem(err); err != nil && (pe == nil || pe.Problem.Reason != "refused_nothing_to_acknowledge") {
			if pe != nil && (pe.StatusCode == 401 || pe.StatusCode == 403) {
				return false, errors.Join(fmt.Errorf("automatic failover is blocked by anti_flap after an earlier failover and acknowledging it needs the admin token (--token-file)"), err)
			}
			return false, err
		}
		asked = true
		return false, nil
	})
}
