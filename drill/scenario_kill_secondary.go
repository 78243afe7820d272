package drill

import (
	"context"
	"time"
)

// killSecondary: one secondary's mongod is killed for a while and restarted. The primary keeps
// a majority: no failover, writes go on, the secondary catches up.
func killSecondary() Scenario {
	return Scenario{
		Name:    "kill-secondary",
		Summary: "kill a secondary's mongod for 5s; writes go on, no failover, it catches up after the restart",
		Faults:  []Fault{FaultKill},
		Needs:   needSecondaries(2),
		Subject: firstSecondary,
		Inject: func(ctx context.Context, e *Env) (Undo, error) {
			return e.Target.KillMongod(ctx, e.Subject)
		},
		Hold:   5 * time.Second,
		Expect: Expect{SamePrimary: true, Recovery: true},
	}
}
