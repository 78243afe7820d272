package heartbeat

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// TestFleetGossipShort runs 10 sets of 3 on one memnet network on fake time (synctest): every set
// converges on its own members only, a change on one sidecar reaches both others of its set (by
// the push tick and by PushNow), a killed sidecar's view goes stale and memberlist declares it
// dead at both survivors, and the survivors keep seeing each other fresh. The limits are liveness
// deadlines; the timings themselves are BenchmarkFleetGossip's business.
func TestFleetGossipShort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := runFleet(t, fleetConfig{sets: 10, per: 3, staleAfter: 3 * DefaultPushInterval,
			poll: 10 * time.Millisecond, limit: 30 * time.Second, synctest: true})
		for _, err := range res.errs {
			t.Error(err)
		}
		if res.staleSurvive > 0 {
			t.Errorf("%d sets: survivors saw each other stale after the kill", res.staleSurvive)
		}
		for i, s := range res.samples {
			if s.changeTick <= 0 || s.changeNow < 0 || s.stale <= 0 || s.dead <= 0 {
				t.Errorf("set %d: missing measurement %+v", i, s)
			}
		}
		t.Logf("fake time:\n%s", fleetTable(res))
	})
}

// BenchmarkFleetGossip runs 100 replica sets x 3 sidecars (300 memberlists) on one memnet network
// in one process, on the real clock: the numbers include the CPU contention of 300 sidecars (and
// of whatever else the machine runs). Run it with `make bench-gossip`.
func BenchmarkFleetGossip(b *testing.B) {
	var all fleetResult
	var cpu, wall time.Duration
	for b.Loop() {
		cpu0, wall0 := processCPU(b), time.Now()
		res := runFleet(b, fleetConfig{sets: 100, per: 3, staleAfter: 3 * DefaultPushInterval,
			poll: 10 * time.Millisecond, limit: 60 * time.Second})
		for _, err := range res.errs {
			b.Error(err)
		}
		all.samples = append(all.samples, res.samples...)
		all.staleSurvive += res.staleSurvive
		cpu, wall = cpu+processCPU(b)-cpu0, wall+time.Since(wall0)
	}
	for _, st := range all.stats() {
		for _, q := range []struct {
			name string
			d    time.Duration
		}{{"p50", st.p50}, {"p90", st.p90}, {"p99", st.p99}, {"max", st.pMax}} {
			b.ReportMetric(float64(q.d.Microseconds())/1000, st.name+"_"+q.name+"_ms")
		}
	}
	b.ReportMetric(float64(all.staleSurvive), "survivor_stale_sets")
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpu_cores")
	b.Logf("real time, %d sets x 3, process CPU %.2f cores over %v (whole run: start, phases, shutdown, polling):\n%s",
		len(all.samples), cpu.Seconds()/wall.Seconds(), wall.Round(time.Millisecond), fleetTable(all))
}

// fleetTable renders the distributions as the markdown table of e2e/testdata/drills/gossip-fleet.md.
func fleetTable(r fleetResult) string {
	var b strings.Builder
	b.WriteString("| measure (per set, slowest member) | median | p90 | p99 | max |\n|---|---|---|---|---|\n")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	for _, st := range r.stats() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", st.name, ms(st.p50), ms(st.p90), ms(st.p99), ms(st.pMax))
	}
	return b.String()
}

// processCPU is the user+system CPU time this process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
