package drill

import (
	"context"
	"errors"
	"fmt"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
)

// switchover: a planned hand-off of the primary through the API (`supervisor switchover`), the
// best-ranked secondary taking over. Writes pause for about a heartbeat interval.
func switchover() Scenario {
	return Scenario{
		Name:    "switchover",
		Summary: "planned switchover through the API; writes pause briefly, the former primary is SECONDARY",
		Needs:   needSecondaries(1),
		Inject: func(ctx context.Context, e *Env) (Undo, error) {
			var errs []error
			for _, s := range e.Target.Sidecars() {
				res, err := s.Client.Do(ctx, api.ActionSwitchover, "", api.ActionRequest{Actor: "drill", Why: "drill: planned switchover"}, apiclient.DoOptions{})
				if err == nil {
					e.Note("switchover %s (%s) by sidecar %s to %s", res.State, res.Reason, res.Executor, res.To)
					return nil, nil
				}
				if pe := apiclient.AsProblem(err); pe != nil {
					return nil, fmt.Errorf("switchover asked of %s: %w", s.Addr, err) // refused: asking another sidecar will not help
				}
				errs = append(errs, err)
			}
			return nil, fmt.Errorf("switchover: no sidecar answered: %w", errors.Join(errs...))
		},
		Until:  func(ctx context.Context, e *Env) error { return e.WaitWritablePrimary(ctx) },
		Expect: Expect{Failover: true, Recovery: true, Planned: true},
	}
}
