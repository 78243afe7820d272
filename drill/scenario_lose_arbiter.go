package drill

import (
	"context"
	"fmt"
	"time"
)

// loseArbiter: the arbiter's mongod is killed for a while. The data-bearing members still make
// a majority: writes go on, no failover, the arbiter comes back.
func loseArbiter() Scenario {
	return Scenario{
		Name:    "lose-arbiter",
		Summary: "kill the arbiter for 5s; writes go on, no failover, it is ARBITER again after the restart",
		Faults:  []Fault{FaultKill},
		Needs: func(ms []Member) error {
			if err := needPrimary(ms); err != nil {
				return err
			}
			if len(withRole(ms, RoleArbiter)) == 0 {
				return fmt.Errorf("%w: the set has no arbiter", ErrPrecondition)
			}
			return nil
		},
		Subject: func(ms []Member) string { return withRole(ms, RoleArbiter)[0] },
		Inject: func(ctx context.Context, e *Env) (Undo, error) {
			return e.Target.KillMongod(ctx, e.Subject)
		},
		Hold:   5 * time.Second,
		Expect: Expect{SamePrimary: true, Recovery: true},
	}
}
