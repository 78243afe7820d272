package drill

import "context"

// isolatePrimary: every link to and from the primary's host is cut (mongod and sidecar). The
// majority side must elect a new primary; the old one steps down when it loses the majority.
func isolatePrimary() Scenario {
	return Scenario{
		Name:    "isolate-primary",
		Summary: "cut the primary's host off from the others; a new writable primary, the old one rejoins as SECONDARY after the heal",
		Faults:  []Fault{FaultIsolate},
		Needs:   needSecondaries(1),
		Inject: func(ctx context.Context, e *Env) (Undo, error) {
			return e.Target.Isolate(ctx, e.Primary)
		},
		Until:  func(ctx context.Context, e *Env) error { return e.WaitWritablePrimary(ctx) },
		Expect: Expect{Failover: true, Recovery: true},
	}
}
