package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/election"
)

// Lag drill shape. The secondaries stop applying (rsSyncApplyStop) for lagStopFor, are released
// until they have caught up, and stop again: a sawtooth whose teeth reach lagStopFor, so the
// secondaries spend most of the hold 3-8 s behind and w:"majority" writes stall or time out
// (wtimeout) most of the time, while the primary's own disk is untouched.
const (
	lagStopFor    = 8 * time.Second
	lagHoldShort  = 25 * time.Second
	lagHoldLong   = 2 * time.Minute
	lagCatchUpMax = 20 * time.Second
)

// lagHold is the two minutes under `make drill` ($RSGUARD_DRILL_RUNS set), a short form
// in the default suite.
func lagHold() time.Duration { return shortOrFull(lagHoldShort, lagHoldLong) }

// TestDrillLaggingSecondaries: secondaries lagging 3-8 s behind a HEALTHY primary, sidecars with
// DEFAULT settings, in a PSS set (arbiter sidecar on a bare host) and in a PSA set (arbiter
// sidecar on the arbiter mongod's host). Nothing may happen: w:1 j:true probes stay fast, so no
// sidecar witnesses a sick primary; the stalled w:"majority" writes are replication_lagging,
// audited with refused_replication_lagging. Invariants on every poll: the primary keeps its
// electionId, no other member claims PRIMARY, no sidecar executed any action (audit logs).
func TestDrillLaggingSecondaries(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	hold := lagHold()
	rep := newDrillReport(fmt.Sprintf("Drill 8: secondaries lagging behind a healthy primary (%s, default settings)", hold))
	t.Run("PSS", func(t *testing.T) {
		d := newDrillSet(t, 3, 0, 1)
		defer d.c.Timeline.Log(t)
		lagDrill(t, d, newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{}), "PSS", hold, rep)
	})
	t.Run("PSA", func(t *testing.T) {
		d := newDrillSet(t, 2, 1, 0)
		defer d.c.Timeline.Log(t)
		lagDrill(t, d, newSidecars(t, supBin, "rs0", d.data, d.members[2:], sidecarOpts{}), "PSA", hold, rep)
	})
	rep.publish(t)
}

// sawtooth drives the secondaries' lag: stopped for lagStopFor, released until caught up.
type sawtooth struct {
	c        *harness.Cluster
	hosts    []*harness.Host
	stopped  bool
	since    time.Time
	teeth    int
	released time.Time
}

func (s *sawtooth) set(ctx context.Context, on bool) error {
	if err := s.c.LagSecondaries(ctx, on, s.hosts...); err != nil {
		return err
	}
	s.stopped, s.since = on, time.Now()
	if on {
		s.teeth++
	}
	return nil
}

// step moves the sawtooth on given the current lag: release a tooth that is old enough, start
// the next one once the secondaries have caught up (lag under a second).
func (s *sawtooth) step(ctx context.Context, lag time.Duration) error {
	switch {
	case s.stopped && time.Since(s.since) >= lagStopFor:
		return s.set(ctx, false)
	case !s.stopped && lag < time.Second:
		return s.set(ctx, true)
	case !s.stopped && time.Since(s.since) > lagCatchUpMax:
		return fmt.Errorf("the secondaries did not catch up within %s of their release (lag %s)", lagCatchUpMax, lag)
	}
	return nil
}

// secondaryLag is how far the slowest of hosts trails p's applied optime, as p's
// replSetGetStatus reports it (rs.printSecondaryReplicationInfo's arithmetic).
func secondaryLag(ctx context.Context, p *harness.Host, hosts []*harness.Host) (time.Duration, error) {
	ots, err := appliedOpTimes(ctx, p)
	if err != nil {
		return 0, err
	}
	var worst time.Duration
	for _, h := range hosts {
		if d := time.Duration(int64(ots[p.HostPort()].T)-int64(ots[h.HostPort()].T)) * time.Second; d > worst {
			worst = d
		}
	}
	return worst, nil
}

func lagDrill(t *testing.T, d *drillSet, cars *sidecarSet, name string, hold time.Duration, rep *drillReport) {
	ctx := context.Background()
	cars.Start(t)
	cars.WaitSettled(t, drillSettleTimeout)
	p := d.WaitHealthy(t, drillRejoinTimeout)
	hl, err := p.Hello(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eid0 := electionIDOf(hl)
	secondaries := slices.DeleteFunc(slices.Clone(d.data), func(h *harness.Host) bool { return h == p })
	saw := &sawtooth{c: d.c, hosts: secondaries}
	t.Cleanup(func() { // before the cluster's cleanup (LIFO): never leave an applier stopped
		if saw.stopped {
			_ = d.c.LagSecondaries(context.Background(), false, secondaries...)
		}
	})
	w := startWorkload(t, d, "lag_"+strings.ToLower(name))
	waitAcks(t, w, 5)

	var samples, inBand int
	var maxLag time.Duration
	lagging := map[string]bool{} // sidecars whose status showed replication_lagging
	t0 := time.Now()
	d.c.Timeline.Mark("%s: secondaries %v lag in %s teeth for %s, primary %s", name, secondaries, lagStopFor, hold, p)
	if err := saw.set(ctx, true); err != nil {
		t.Fatal(err)
	}
	holdWhile(t, hold, name+": no action while the secondaries lag", func(ctx context.Context) error {
		if err := primaryUnchanged(ctx, p, eid0, secondaries, nil); err != nil {
			return err
		}
		if ex := cars.Executed(t, t0); len(ex) > 0 {
			return fmt.Errorf("rsguard acted: %s", describeActions(ex, t0))
		}
		lag, err := secondaryLag(ctx, p, secondaries)
		if err != nil {
			return nil // a status read that timed out under load is no violation
		}
		samples++
		maxLag = max(maxLag, lag)
		if lag >= 3*time.Second && lag <= 8*time.Second {
			inBand++
		}
		for _, c := range cars.cars {
			if r, err := cars.Status(ctx, c); err == nil && r.Analysis.Kind == election.ReplicationLagging {
				lagging[c.ID] = true
			}
		}
		return saw.step(ctx, lag)
	})
	if err := saw.set(ctx, false); err != nil {
		t.Fatal(err)
	}
	d.c.Timeline.Mark("%s: lag released", name)
	// The aftermath: a verdict formed during the lag must not act after it.
	holdWhile(t, 5*time.Second, name+": no action after the lag", func(context.Context) error {
		if ex := cars.Executed(t, t0); len(ex) > 0 {
			return fmt.Errorf("rsguard acted: %s", describeActions(ex, t0))
		}
		return nil
	})
	cur := d.WaitHealthy(t, drillRejoinTimeout)
	if cur != p {
		t.Errorf("primary %s -> %s", p, cur)
	}
	failed, first := w.failuresAfter(t0)
	n := w.verify(t, cur)

	audited := map[string]int{}
	var refusals []string
	for _, r := range cars.AllAudit(t) {
		if r.Time.Before(t0) {
			continue
		}
		if r.Analysis.Kind == election.ReplicationLagging && r.Reason == election.RefusedReplicationLagging {
			audited[r.Sidecar]++
		}
		refusals = append(refusals, fmt.Sprintf("%s/%s", r.Analysis.Kind, r.Reason))
	}
	for _, c := range cars.cars {
		if audited[c.ID] == 0 {
			t.Errorf("%s never audited replication_lagging (status showed it: %v)", c.ID, lagging[c.ID])
		}
	}
	share := 0.0
	if samples > 0 {
		share = 100 * float64(inBand) / float64(samples)
	}
	rep.note("%s: %d lag teeth of %s over %s; secondaries' lag up to %s, 3-8 s behind in %.0f%% of %d samples; %d w:\"majority\" inserts failed (first: %s), %d acknowledged, all present",
		name, saw.teeth, lagStopFor, hold, maxLag, share, samples, failed, short(first), n)
	rep.note("%s: primary %s kept PRIMARY (electionId unchanged), no action executed on any sidecar; replication_lagging audited by %v; audit lines: %s",
		name, p, slices.Sorted(maps.Keys(audited)), countStrings(refusals))
	cars.LogAudit(t, t0)
}

// countStrings is "a x2, b x1" in sorted order.
func countStrings(ss []string) string {
	n := map[string]int{}
	for _, s := range ss {
		n[s]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%s x%d", k, n[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
