package drill

import "context"

// stallPrimaryDisk: the primary's writes block (fsyncLock, or the emulator's disk-stall fail
// point) while hello and heartbeats still flow: MongoDB alone never fails over. rsguard must
// find it sick from the primary's own evidence, step up a secondary and fence the sick one.
func stallPrimaryDisk() Scenario {
	return Scenario{
		Name:    "stall-primary-disk",
		Summary: "block the primary's writes (fsyncLock) while it still answers hello; rsguard fails over a primary MongoDB keeps",
		Faults:  []Fault{FaultStallDisk},
		Needs:   needSecondaries(1),
		Inject: func(ctx context.Context, e *Env) (Undo, error) {
			return e.Target.StallDisk(ctx, e.Primary)
		},
		Until:  func(ctx context.Context, e *Env) error { return e.WaitWritablePrimary(ctx) },
		Expect: Expect{Failover: true, Recovery: true},
	}
}
