package supervisor

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo/mongotest"
)

// silenceHistogram reads rsguard_supervisor_mongod_silence_seconds of mongod with outcome:
// observations, their sum and the count at or below le.
func silenceHistogram(t *testing.T, reg *prometheus.Registry, mongod, outcome string, le float64) (count uint64, sum float64, atMost uint64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "rsguard_supervisor_mongod_silence_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !hasLabels(m, []string{"mongod", mongod, "outcome", outcome}) {
				continue
			}
			h := m.GetHistogram()
			count, sum = h.GetSampleCount(), h.GetSampleSum()
			for _, b := range h.GetBucket() {
				if b.GetUpperBound() == le {
					atMost = b.GetCumulativeCount()
				}
			}
		}
	}
	return count, sum, atMost
}

// Must not fire first: 2.5 s blips of the primary's host, one at each tenth of a second of the
// probe round (the phase is what decides how a blip reads), make nothing happen. Every sidecar
// that lost the primary saw each blip as a silence that ended, shorter than
// probe.unreachable_after, and none as one that made it unreachable.
func TestBlipsAtEveryProbePhaseDoNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)

		const blips = 10
		for k := range blips {
			// Probe rounds start on whole seconds of the fake clock (every sidecar started at 0).
			at := time.Now().Truncate(time.Second).Add(time.Second + time.Duration(k)*100*time.Millisecond)
			time.Sleep(time.Until(at))
			c.isolateHost(0)
			time.Sleep(2500 * time.Millisecond)
			c.healHost(0)
			time.Sleep(8 * time.Second)
		}
		if n := c.actionCalls(); n != 0 {
			t.Errorf("%d actions after %d blips of 2.5s of the primary's host (unreachable_after 3s)", n, blips)
		}
		for _, id := range []string{"b", "c", "d"} {
			if st := c.status(id); st.Analysis.Kind != election.Healthy {
				t.Errorf("%s after the blips: %s (%s)", id, st.Analysis.Kind, st.Decision.Reason)
			}
			if n, _, _ := silenceHistogram(t, c.regs[id], h1, "unreachable", 3); n != 0 {
				t.Errorf("%s declared %s unreachable %d times during 2.5s blips", id, h1, n)
			}
			n, sum, under3 := silenceHistogram(t, c.regs[id], h1, "answered", 3)
			if n < blips {
				t.Errorf("%s saw %d silences of %s for %d blips: are the blips effective?", id, n, h1, blips)
			}
			if under3 != n {
				t.Errorf("%s: %d of %d silences of %s reached 3s", id, n-under3, n, h1)
			}
			t.Logf("%s: %d silences of %s, mean %.2fs", id, n, h1, sum/float64(n))
		}
	})
}

// The same silence, lasting, is declared when it reaches probe.unreachable_after, not at the end
// of the next failed probe (3.8 s with the default 1 s rounds and 0.8 s timeouts): the watch asks
// without a gap and looks at the length as it grows. The frozen primary's own sidecar, which
// still runs, finds its mongod silent the same way.
func TestSilenceIsUnreachableAtUnreachableAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)

		// Mid-round: the first probe to go unanswered starts up to a round later.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1300 * time.Millisecond)))
		for _, m := range threeData {
			w.cut(m.id, h1)
		}
		waitFor(t, 30*time.Second, "a step-up", func() bool {
			return w.calls(h2, mongotest.OpStepUp)+w.calls(h3, mongotest.OpStepUp) > 0
		})
		spacing := watchSpacing(800 * time.Millisecond)
		for _, id := range []string{"a", "b", "c", "d"} {
			n, sum, _ := silenceHistogram(t, c.regs[id], h1, "unreachable", 3)
			if n != 1 {
				t.Errorf("%s declared %s unreachable %d times, want once", id, h1, n)
				continue
			}
			if sum < 3 || sum >= (3*time.Second+spacing).Seconds() {
				t.Errorf("%s declared %s unreachable after a silence of %.3fs, want 3s (probe.unreachable_after) to 3s+%v", id, h1, sum, spacing)
			}
		}
	})
}
