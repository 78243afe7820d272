package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func drawChaos(seed uint64, kinds []chaosKind, n int) []chaosFault {
	s := newChaosSchedule(seed, kinds)
	out := make([]chaosFault, n)
	for i := range out {
		out[i] = s.next()
	}
	return out
}

// TestChaosScheduleReplays: a seed replays its schedule exactly; another seed does not; every
// kind is drawn and every hold stays in its kind's range.
func TestChaosScheduleReplays(t *testing.T) {
	a, b := drawChaos(42, chaosKinds, 200), drawChaos(42, chaosKinds, 200)
	if !slices.Equal(a, b) {
		t.Fatalf("seed 42 drew two different schedules")
	}
	if slices.Equal(a, drawChaos(43, chaosKinds, 200)) {
		t.Fatalf("seeds 42 and 43 drew the same schedule")
	}
	seen := map[chaosKind]int{}
	for i, f := range a {
		seen[f.Kind]++
		r := chaosHolds[f.Kind]
		if f.N != i+1 || f.Hold < r[0] || f.Hold > r[1] || f.Gap < 0 || f.Gap > chaosMaxGap {
			t.Errorf("fault %v: want number %d, hold in %v, gap in [0, %s]", f, i+1, r, chaosMaxGap)
		}
	}
	for _, k := range chaosKinds {
		if seen[k] == 0 {
			t.Errorf("kind %s never drawn in 200 faults", k)
		}
	}
	for _, f := range drawChaos(7, []chaosKind{chaosLag}, 20) {
		if f.Kind != chaosLag {
			t.Errorf("drew %s from the kinds [lag]", f.Kind)
		}
	}
}

func TestChaosSettings(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	c, err := parseChaosSettings(env(), 99)
	if err != nil || c.Duration != 30*time.Second || c.Seed != 99 || !slices.Equal(c.Kinds, chaosKinds) {
		t.Errorf("defaults: %v, %v", c, err)
	}
	c, err = parseChaosSettings(env(envChaos, "30m", envChaosSeed, "12345", envChaosFaults, "kill, lag,kill"), 99)
	if err != nil || c.Duration != 30*time.Minute || c.Seed != 12345 || !slices.Equal(c.Kinds, []chaosKind{chaosKill, chaosLag}) {
		t.Errorf("30m, seed 12345, kill,lag: %v, %v", c, err)
	}
	for _, bad := range [][2]string{
		{envChaos, "5s"}, {envChaos, "soon"}, {envChaosSeed, "-1"}, {envChaosFaults, "kill,nuke"}, {envChaosFaults, ","},
	} {
		_, err := parseChaosSettings(env(bad[0], bad[1]), 1)
		if err == nil || !strings.Contains(err.Error(), bad[0]) || !strings.Contains(err.Error(), bad[1]) {
			t.Errorf("$%s=%q: error %v, want one naming the variable and the value", bad[0], bad[1], err)
		}
	}
}
