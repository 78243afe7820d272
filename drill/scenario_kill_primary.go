package drill

import (
	"context"
	"time"
)

// killPrimary: the primary's mongod is killed (SIGKILL; shutdown force on a remote set). rsguard
// must see it dead by quorum and step up the best secondary before MongoDB's election timeout.
func killPrimary() Scenario {
	return Scenario{
		Name:    "kill-primary",
		Summary: "kill the primary's mongod; a new writable primary, the old one back as SECONDARY after a restart",
		Faults:  []Fault{FaultKill},
		Needs:   needSecondaries(1),
		Inject: func(ctx context.Context, e *Env) (Undo, error) {
			return e.Target.KillMongod(ctx, e.Primary)
		},
		Until:  func(ctx context.Context, e *Env) error { return e.WaitWritablePrimary(ctx) },
		Hold:   0,
		Expect: Expect{Failover: true, Recovery: true},
	}
}

// untilWritableThen waits for a new writable primary, then holds the fault for d more: long
// enough for the former primary's own reaction (stepping down, rolling back) to show.
func untilWritableThen(d time.Duration) func(ctx context.Context, e *Env) error {
	return func(ctx context.Context, e *Env) error {
		if err := e.WaitWritablePrimary(ctx); err != nil {
			return err
		}
		return e.Hold(ctx, d)
	}
}
