package drill

import (
	"context"
	"time"
)

// rollbackFormerPrimary: the primary is cut off while the w:1 writers keep writing to it. The
// majority side elects a new primary; after the heal the former primary rolls back what it took
// alone (spec §7.7), its sidecar archives the rollback files, and it rejoins as SECONDARY with
// no operator command. The w:1 inserts rolled back are counted; no w:"majority" insert is lost.
func rollbackFormerPrimary() Scenario {
	return Scenario{
		Name:    "rollback-former-primary",
		Summary: "isolate the primary while w:1 writes reach it; after the heal it rolls back and rejoins as SECONDARY by itself",
		Faults:  []Fault{FaultIsolate},
		Needs:   needSecondaries(1),
		Inject: func(ctx context.Context, e *Env) (Undo, error) {
			return e.Target.Isolate(ctx, e.Primary)
		},
		Until:  untilWritableThen(3 * time.Second),
		Expect: Expect{Failover: true, Recovery: true, RollbackFiles: true},
	}
}
