package drill

import (
	"context"
	"errors"
	"time"
)

// Flapping shape: the primary's host is cut off flapCuts times for flapCut each, flapGap apart:
// cuts shorter than detection must not each cost a failover.
const (
	flapCuts = 3
	flapCut  = 2 * time.Second
	flapGap  = 2 * time.Second
)

// flapNetwork: the primary's links go down and up again several times. At most one failover
// (the anti-flap window holds any second one), and the set ends healthy.
func flapNetwork() Scenario {
	return Scenario{
		Name:    "flap-network",
		Summary: "cut the primary's host off 3 times for 2s, 2s apart; at most one failover, no flapping",
		Faults:  []Fault{FaultIsolate},
		Needs:   needSecondaries(1),
		Inject: func(ctx context.Context, e *Env) (Undo, error) {
			for i := range flapCuts {
				heal, err := e.Target.Isolate(ctx, e.Primary)
				if err != nil {
					return nil, err
				}
				e.Note("cut %d of %d", i+1, flapCuts)
				held := e.Hold(ctx, flapCut)
				if err := errors.Join(held, heal(context.WithoutCancel(ctx))); err != nil {
					return nil, err
				}
				e.Note("healed %d of %d", i+1, flapCuts)
				if err := e.Hold(ctx, flapGap); err != nil {
					return nil, err
				}
			}
			return nil, nil
		},
		Expect: Expect{MaxFailovers: 1, Recovery: true},
	}
}
