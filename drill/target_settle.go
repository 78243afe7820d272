package drill

import "context"

// Settler is a Target that can tell when its sidecars are ready to act on a fault: a quorum, a
// coordinator, a healthy analysis, and the quiet period after the last term change over (for
// failover.election_quiet, 12 s by default, the sidecars leave the set to MongoDB's own
// election). Each run waits for it before its warm-up, so that a fault never falls into the
// quiet period a previous run's failover began and the figures are rsguard's, not MongoDB's.
type Settler interface {
	WaitSettled(ctx context.Context) error
}
