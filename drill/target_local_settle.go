package drill

import (
	"context"
	"fmt"
	"time"

	"github.com/rsguard/rsguard/election"
)

var _ Settler = (*Local)(nil)

// WaitSettled waits until every running sidecar sees a healthy set with a coordinator and a
// quorum, out of the quiet period after a term change.
func (l *Local) WaitSettled(ctx context.Context) error {
	return until(ctx, 250*time.Millisecond, "settled sidecars", func(ctx context.Context) (bool, error) {
		for _, c := range l.cars.Cars {
			if !c.Running() {
				continue // a scenario stopped it; the run will say
			}
			r, err := l.cars.Status(ctx, c)
			switch {
			case err != nil:
				return false, err
			case r.Analysis.Kind != election.Healthy || r.Coordinator == "" || !r.Quorum.Has:
				return false, fmt.Errorf("%s: analysis %s, coordinator %q, quorum %v", c.ID, r.Analysis.Kind, r.Coordinator, r.Quorum.Has)
			case r.Policy.ElectionQuietUntil.After(r.Time):
				return false, fmt.Errorf("%s: quiet after the election of term %d until %s", c.ID, r.Policy.ElectionQuietTerm, r.Policy.ElectionQuietUntil.Format(time.TimeOnly))
			}
		}
		return true, nil
	})
}
