package lab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/config"
)

// labHosts leases n addresses and prepares hosts on them without starting anything.
func labHosts(t *testing.T, n int) []*Host {
	t.Helper()
	lease, err := LeaseBlock(context.Background(), LeaseOptions{Count: n, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lease.Close() })
	var hs []*Host
	for i := range n {
		h, err := NewHost(nil, HostOptions{N: lease.First + i, Port: 27017, Dir: filepath.Join(t.TempDir(), lease.Addrs[i]),
			ReplSet: "rs0", Mongod: "/usr/bin/mongod", External: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Close() })
		hs = append(hs, h)
	}
	return hs
}

// Every generated config file loads through config.Load (the loader `supervisor run` uses),
// in both layouts and with the options the demo and the drills pass.
func TestSidecarConfigsLoad(t *testing.T) {
	hs := labHosts(t, 4)
	for name, o := range map[string]SidecarOptions{
		"drill default": {},
		"drill options": {ReplicaSet: "rs0", FailoverDisabled: true, Seeds: []string{hs[0].Addr + ":7946"},
			Extra: "recovery:\n  psa_lost_after: 30s\n", HostExtra: func(h *Host) string { return "" }},
		"demo": {Layout: LayoutFlat, Dir: t.TempDir(), Header: func(c *Sidecar) string { return "Generated: " + c.ID }, FreePorts: true,
			ArbiterID: func(int) string { return "arbiter" }, ProbeInterval: 500 * time.Millisecond,
			WriteProbeInterval: 500 * time.Millisecond, Settle: time.Second, ConnectTimeout: time.Second,
			AntiFlapWindow: 5 * time.Minute, LogLevel: "info", Exec: true},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := NewSidecarSet("/bin/supervisor", "rs0", hs[:3], hs[3:], o)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Cars) != 4 || s.Cars[3].Mode != ModeArbiter || s.Cars[0].ID != "node-a" {
				t.Fatalf("layout: %+v", s.Cars)
			}
			for _, c := range s.Cars {
				if _, err := config.Load(c.Config); err != nil {
					b, _ := os.ReadFile(c.Config)
					t.Fatalf("%s does not load: %v\n%s", c.Config, err, b)
				}
			}
			y := s.YAML(s.Cars[0], o)
			if o.Exec && !strings.Contains(y, "controller: exec") {
				t.Errorf("exec section missing:\n%s", y)
			}
			if o.FailoverDisabled && !strings.Contains(y, "enabled: false") {
				t.Errorf("failover.enabled missing:\n%s", y)
			}
			if o.Layout == LayoutFlat && !strings.Contains(y, `keyring_file: "gossip.keyring"`) {
				t.Errorf("flat layout names the keyring absolutely:\n%s", y)
			}
		})
	}
}

func TestDur(t *testing.T) {
	for d, want := range map[time.Duration]string{5 * time.Minute: "5m", 90 * time.Second: "1m30s",
		500 * time.Millisecond: "500ms", time.Second: "1s", 2 * time.Hour: "2h"} {
		if got := dur(d); got != want {
			t.Errorf("dur(%v) = %q, want %q", d, got, want)
		}
	}
}

// A sidecar that exits at start (here a "supervisor" that cannot run its arguments) ends
// WaitStarted at once with its output; WaitReady skips it, as drills stop sidecars on purpose.
func TestWaitStartedReportsExit(t *testing.T) {
	hs := labHosts(t, 1)
	s, err := NewSidecarSet("/bin/sh", "rs0", hs, nil, SidecarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Start(s.Cars[0]); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.WaitStarted(context.Background(), time.Minute)
	if err == nil || !strings.Contains(err.Error(), "sidecar node-a exited") || !strings.Contains(err.Error(), "run") {
		t.Fatalf("WaitStarted: %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("WaitStarted took %s: it waited out the deadline instead of stopping at the exit", d)
	}
	if err := s.WaitReady(context.Background(), time.Second); err != nil {
		t.Errorf("WaitReady with the only sidecar stopped: %v", err)
	}
}
