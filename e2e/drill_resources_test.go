package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/e2e/harness"
)

// Sidecar resource figures at rest. The issue asks for under 40 MB RSS and under 2% of a core
// with 1 s probes; the test fails only when clearly over (these limits), so that a busy CI
// machine does not flake, and reports the exact figures either way.
const (
	restSampleShort = 10 * time.Second // the default suite
	restSampleLong  = 30 * time.Second // make drill: the report's figure
	restMaxRSSKB    = 60 * 1024
	restMaxCPU      = 0.05 // fraction of one core
	clockTicks      = 100  // USER_HZ: /proc/PID/stat times are in 1/100 s on Linux
)

// procSample is one reading of a process: RSS in kB and CPU time (utime+stime) in ticks.
type procSample struct {
	rssKB int64
	ticks int64
}

func readProc(pid int) (procSample, error) {
	var s procSample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				s.rssKB, _ = strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the ")" that ends comm: state is field 3, utime 14, stime 15.
	_, rest, ok := strings.Cut(string(stat), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	s.ticks = ut + st
	return s, nil
}

// TestDrillSidecarResources: four sidecars (three data, one arbiter) at rest with 1 s probes
// (write probes included), after settling: RSS (VmRSS, the peak of the samples) and CPU
// (utime+stime over the sample: 30 s under make drill, 10 s in the default suite) of each sidecar
// process.
func TestDrillSidecarResources(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	d := newDrillSet(t, 3, 0, 1)
	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{})
	cars.Start(t)
	cars.WaitSettled(t, drillSettleTimeout)

	first := map[string]procSample{}
	peak := map[string]int64{}
	start := time.Now()
	for _, c := range cars.cars {
		s, err := readProc(c.Proc.Pid())
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		first[c.ID], peak[c.ID] = s, s.rssKB
	}
	holdWhile(t, shortOrFull(restSampleShort, restSampleLong), "sampling sidecars at rest", func(context.Context) error {
		for _, c := range cars.cars {
			if !c.Running() {
				return fmt.Errorf("sidecar %s exited (%s)", c.ID, c.Proc.ExitState())
			}
			s, err := readProc(c.Proc.Pid())
			if err != nil {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
			peak[c.ID] = max(peak[c.ID], s.rssKB)
		}
		return nil
	})
	elapsed := time.Since(start)

	rep := newDrillReport(fmt.Sprintf("Drill 6: sidecar resources at rest (probe interval 1s, %s sample)", elapsed.Round(time.Second)))
	rep.line("| sidecar | mode | RSS at start | peak RSS | CPU time | CPU (share of one core) |")
	rep.line("|---|---|---|---|---|---|")
	for _, c := range cars.cars {
		last, err := readProc(c.Proc.Pid())
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		peak[c.ID] = max(peak[c.ID], last.rssKB)
		cpuSecs := float64(last.ticks-first[c.ID].ticks) / clockTicks
		share := cpuSecs / elapsed.Seconds()
		rep.line("| %s | %s | %.1f MB | %.1f MB | %.2fs | %.2f%% |", c.ID, c.Mode,
			float64(first[c.ID].rssKB)/1024, float64(peak[c.ID])/1024, cpuSecs, share*100)
		if peak[c.ID] > restMaxRSSKB {
			t.Errorf("sidecar %s: peak RSS %.1f MB, over %d MB (the issue asks for under 40 MB)", c.ID, float64(peak[c.ID])/1024, restMaxRSSKB/1024)
		}
		if share > restMaxCPU {
			t.Errorf("sidecar %s: %.2f%% of a core at rest, over %.0f%% (the issue asks for under 2%%)", c.ID, share*100, restMaxCPU*100)
		}
	}
	rep.note("target: under 40 MB RSS and under 2%% of a core each; the test fails over %d MB or %.0f%%", restMaxRSSKB/1024, restMaxCPU*100)
	rep.publish(t)
}
