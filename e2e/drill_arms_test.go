package e2e

import (
	"testing"
	"time"
)

// armRun is one run of a fault drill in one arm: cars nil for MongoDB alone ("native"), the
// started sidecars for "rsguard".
type armRun func(t *testing.T, cars *sidecarSet, mode string, run int) killResult

// compareArms is the shape of the failover drills that measure rsguard against MongoDB alone in
// the same run of the same machine: runs runs without sidecars, then the sidecars started and
// runs runs with them (an operator acknowledgement before each but the first lifts the
// anti-flap window the previous failover opened, failover.anti_flap_window). Each result goes
// to rep's "<mode>: primary", "<mode>: direct write" (when rep has that column) and "<mode>:
// first write" series. It returns the two medians of the first write and their ratio
// rsguard/native (0 without a native figure), and fails the test when rsguard is not faster.
func (d *drillSet) compareArms(t *testing.T, supBin string, runs int, rep *drillReport, run armRun) (nat, rsg time.Duration, ratio float64) {
	t.Helper()
	add := func(mode string, r killResult) {
		rep.s(mode + ": primary").add(r.primary)
		if rep.has(mode + ": direct write") {
			rep.s(mode + ": direct write").add(r.direct)
		}
		rep.s(mode + ": first write").add(r.write)
	}
	for i := range runs {
		add("native", run(t, nil, "native", i))
	}
	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{})
	cars.Start(t)
	for i := range runs {
		if i > 0 {
			cars.Acknowledge(t)
		}
		r := run(t, cars, "rsguard", i)
		add("rsguard", r)
		rep.note("rsguard run %d: %s", i+1, r.how)
	}
	nat, rsg = rep.s("native: first write").median(), rep.s("rsguard: first write").median()
	if nat > 0 {
		ratio = rsg.Seconds() / nat.Seconds()
	}
	if rsg >= nat {
		t.Errorf("rsguard is not faster than MongoDB alone in this run: median first write %s with sidecars, %s without", secs(rsg), secs(nat))
	}
	return nat, rsg, ratio
}
