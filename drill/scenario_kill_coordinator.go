package drill

import (
	"context"
	"errors"
	"fmt"
)

// killCoordinatorMidFailover: the primary's mongod is killed, and as soon as a sidecar reports
// the incident, the coordinating sidecar is killed too. The failover must still complete: the
// set's memory (incidents, actions in flight) survives a coordinator change.
func killCoordinatorMidFailover() Scenario {
	return Scenario{
		Name:    "kill-coordinator-mid-failover",
		Summary: "kill the primary's mongod, then the coordinating sidecar once the incident is raised; the failover still completes",
		Faults:  []Fault{FaultKill, FaultKillSidecar},
		Needs:   needSecondaries(1),
		Inject: func(ctx context.Context, e *Env) (Undo, error) {
			restartMongod, err := e.Target.KillMongod(ctx, e.Primary)
			if err != nil {
				return nil, err
			}
			undo := restartMongod
			ev, err := e.Incident(ctx, e.Primary)
			if err != nil {
				return undo, err
			}
			e.Note("incident raised: %s", ev.Summary)
			coord, err := e.Coordinator(ctx)
			if err != nil {
				return undo, err
			}
			restartSidecar, err := e.Target.KillSidecar(ctx, coord)
			if err != nil {
				return undo, fmt.Errorf("killing the coordinator %s: %w", coord, err)
			}
			e.Note("coordinator sidecar %s killed", coord)
			return func(ctx context.Context) error {
				return errors.Join(restartSidecar(ctx), restartMongod(ctx))
			}, nil
		},
		Until:  func(ctx context.Context, e *Env) error { return e.WaitWritablePrimary(ctx) },
		Expect: Expect{Failover: true, Recovery: true},
	}
}
