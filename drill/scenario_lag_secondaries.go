package drill

import (
	"context"
	"time"
)

// lagSecondaries: every secondary stops applying for a while. w:"majority" writes stall but the
// primary is healthy: slow secondaries are not actionable, rsguard must not fail over.
func lagSecondaries() Scenario {
	return Scenario{
		Name:    "lag-secondaries",
		Summary: "stop the secondaries' oplog appliers for 10s; majority writes stall, the primary stays (no failover)",
		Faults:  []Fault{FaultLag},
		Needs:   needSecondaries(1),
		Subject: func([]Member) string { return "" },
		Inject: func(ctx context.Context, e *Env) (Undo, error) {
			return e.Target.LagSecondaries(ctx, withRole(e.Members, RoleSecondary))
		},
		Hold:   10 * time.Second,
		Expect: Expect{SamePrimary: true},
	}
}
