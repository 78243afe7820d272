package drill

import "context"

// freezePrimary: the primary's host stops (mongod and sidecar SIGSTOPped): connections stay
// open and nothing answers. Only a quorum of the other sidecars can call it dead.
func freezePrimary() Scenario {
	return Scenario{
		Name:    "freeze-primary",
		Summary: "freeze the primary's host (mongod and sidecar stopped); a new writable primary, the old one steps down when thawed",
		Faults:  []Fault{FaultFreeze},
		Needs:   needSecondaries(1),
		Inject: func(ctx context.Context, e *Env) (Undo, error) {
			return e.Target.FreezeHost(ctx, e.Primary)
		},
		Until:  func(ctx context.Context, e *Env) error { return e.WaitWritablePrimary(ctx) },
		Expect: Expect{Failover: true, Recovery: true},
	}
}
