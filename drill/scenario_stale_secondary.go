package drill

import "context"

// staleSecondaryResync: a secondary is stopped while more than its oplog window is written, and
// started again: it comes back too stale (RECOVERING, tooStale; spec §7.5). rsguard must
// resync it from scratch by itself and bring it back as SECONDARY.
func staleSecondaryResync() Scenario {
	return Scenario{
		Name:    "stale-secondary-resync",
		Summary: "make a secondary fall off the oplog; rsguard resyncs it and it is SECONDARY again, with no failover",
		Faults:  []Fault{FaultStale},
		Needs:   needSecondaries(2),
		Subject: firstSecondary,
		Inject: func(ctx context.Context, e *Env) (Undo, error) {
			return e.Target.StaleSecondary(ctx, e.Subject)
		},
		Until:  func(ctx context.Context, e *Env) error { return e.WaitRole(ctx, e.Subject, RoleSecondary) },
		Expect: Expect{SamePrimary: true, Recovery: true},
	}
}
