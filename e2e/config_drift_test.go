package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/e2e/harness"
)

// TestConfigDrift: three sidecars of one set, node-c's file with another failover.anti_flap_window.
// Every sidecar answers /readyz 503 naming the drift (node-a and node-b name node-c, node-c names
// them), /v1/status says the same, and `validate-config` on the three files names the file and
// the key. node-c restarted with the same file as the others: all three ready again. Processes are
// started and stopped only; no network faults.
func TestConfigDrift(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	d := newDrillSet(t, 3, 0, 0)
	defer d.c.Timeline.Log(t)
	const key = "failover.anti_flap_window"

	cars := newSidecars(t, supBin, "rs0", d.data, nil, sidecarOpts{})
	defer killSidecars(cars)
	odd := cars.cars[2]
	writeDrifted(t, odd.Config, "  anti_flap_window: 10m\n")

	// The files disagree before anything runs, and validate-config says where.
	out, err := exec.Command(supBin, "validate-config", cars.cars[0].Config, cars.cars[1].Config, odd.Config).CombinedOutput()
	if err == nil || !strings.Contains(string(out), odd.Config) ||
		!strings.Contains(string(out), key+": is 10m here but 5m in "+cars.cars[0].Config) {
		t.Errorf("validate-config on the drifted files: err %v, output:\n%s", err, out)
	}

	cars.Start(t)
	d.c.Timeline.Mark("sidecars started, %s with %s: 10m", odd.ID, key)
	harness.WaitFor(t, 60*time.Second, "every sidecar not ready, naming the drift", func(ctx context.Context) error {
		for _, c := range cars.cars {
			want := "config drift with " + odd.ID + ": " + key
			if c == odd {
				want = "config drift with " + cars.cars[0].ID + ": " + key
			}
			code, body, err := cars.Ready(ctx, c)
			if err != nil {
				return err
			}
			if code != http.StatusServiceUnavailable || !strings.Contains(body, want) {
				return fmt.Errorf("%s: /readyz %d %q, want 503 with %q", c.ID, code, body, want)
			}
			r, err := cars.Status(ctx, c)
			if err != nil {
				return err
			}
			if r.Ready || len(r.ConfigAgreement.Drift) == 0 {
				return fmt.Errorf("%s: /v1/status ready %v, config_agreement %+v", c.ID, r.Ready, r.ConfigAgreement)
			}
		}
		return nil
	})
	d.c.Timeline.Mark("every sidecar not ready, naming the drift")
	for _, c := range cars.cars {
		_, body, _ := cars.Ready(context.Background(), c)
		t.Logf("%s /readyz: %s", c.ID, body)
	}

	// The fix: node-c's file made like the others, node-c restarted.
	if err := cars.writeConfig(odd, sidecarOpts{}); err != nil {
		t.Fatal(err)
	}
	if err := odd.Proc.Stop(10 * time.Second); err != nil {
		t.Fatalf("stop %s: %v", odd.ID, err)
	}
	cars.StartOne(t, odd)
	d.c.Timeline.Mark("%s restarted with the agreeing file", odd.ID)
	cars.WaitReady(t, 60*time.Second)
	harness.WaitFor(t, 30*time.Second, "one fingerprint, no drift", func(ctx context.Context) error {
		sum := ""
		for _, c := range cars.cars {
			r, err := cars.Status(ctx, c)
			if err != nil {
				return err
			}
			if len(r.ConfigAgreement.Drift) > 0 || sum != "" && r.ConfigAgreement.Fingerprint != sum {
				return fmt.Errorf("%s: config_agreement %+v (node-a has %s)", c.ID, r.ConfigAgreement, sum)
			}
			sum = r.ConfigAgreement.Fingerprint
		}
		return nil
	})
}

// writeDrifted adds lines under the failover: section of the config file at path.
func writeDrifted(t *testing.T, path, lines string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Count(s, "\nfailover:\n") != 1 {
		t.Fatalf("%s: no single failover section:\n%s", path, s)
	}
	s = strings.Replace(s, "\nfailover:\n", "\nfailover:\n"+lines, 1)
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
