package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/e2e/harness"
)

// quietSet is the must-not-fire drills' set: three members with their sidecars and an arbiter
// sidecar on a bare address, healthy, with the primary, its electionId and its secondaries as
// they were before any fault.
type quietSet struct {
	*drillSet
	cars        *sidecarSet
	p           *harness.Host
	eid0        bson.ObjectID
	secondaries []*harness.Host
}

// newQuietSet starts the set and the sidecars, waits until they are settled and the set healthy,
// and logs fw's cuts on the set's timeline (logged when the test ends).
func newQuietSet(t *testing.T, supBin string, fw *harness.Firewall) *quietSet {
	t.Helper()
	d := newDrillSet(t, 3, 0, 1)
	t.Cleanup(func() { d.c.Timeline.Log(t) })
	fw.Timeline = d.c.Timeline
	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{})
	cars.Start(t)
	cars.WaitSettled(t, drillSettleTimeout)
	p := d.WaitHealthy(t, drillRejoinTimeout)
	hl, err := p.Hello(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &quietSet{drillSet: d, cars: cars, p: p, eid0: electionIDOf(hl),
		secondaries: slices.DeleteFunc(slices.Clone(d.data), func(h *harness.Host) bool { return h == p })}
}

// unchanged is the invariant of the must-not-fire drills: the primary is the same, writable, in
// the same term (its electionId), no other member (but those skip names) claims PRIMARY, and no
// sidecar has executed an action since *since.
func (q *quietSet) unchanged(t testing.TB, since *time.Time, skip func(*harness.Host) bool) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := primaryUnchanged(ctx, q.p, q.eid0, q.secondaries, skip); err != nil {
			return err
		}
		if ex := q.cars.Executed(t, *since); len(ex) > 0 {
			return fmt.Errorf("rsguard acted: %s", describeActions(ex, *since))
		}
		return nil
	}
}
