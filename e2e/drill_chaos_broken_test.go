package e2e

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/election"
)

// TestDrillChaosCatchesFlapping shows the soak's checks catch a real violation on real
// processes, not only in synthetic streams: the sidecars run a broken policy
// (failover.anti_flap_window: 1s instead of the documented 5m) and the primary is killed twice,
// a settled set apart. rsguard fails over both times; the anti-flap check, reading the audit
// logs against the documented default, must report the second failover, while the quorum check
// finds both verdicts sound. It runs under `make drill` ($RSGUARD_DRILL_RUNS or
// $RSGUARD_CHAOS set); in the default suite the checkers' unit tests (chaos_invariants_unit_test.go)
// feed them the same violation, which keeps `go test ./...` within its budget.
func TestDrillChaosCatchesFlapping(t *testing.T) {
	if !fullDrill() && os.Getenv("RSGUARD_CHAOS") == "" {
		t.Skip("real-process broken-policy run: make drill or make soak (the checkers' unit tests run here)")
	}
	_, supBin := harness.BuildOnce(t)
	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{})
	breakAntiFlap(t, cars)
	cars.Start(t)
	ctx := context.Background()
	t0 := d.c.Timeline.Zero("broken policy: failover.anti_flap_window 1s").When
	for round := 1; round <= 2; round++ {
		d.WaitHealthy(t, drillRejoinTimeout)
		cars.WaitSettled(t, drillSettleTimeout)
		p := d.WaitHealthy(t, drillRejoinTimeout)
		d.c.Timeline.Mark("round %d: SIGKILL primary %s", round, p)
		if err := p.Kill(); err != nil {
			t.Fatal(err)
		}
		np, _, err := d.newPrimary(ctx, p, drillFailoverTimeout)
		if err != nil {
			cars.DumpStatus(t)
			t.Fatalf("round %d: %v", round, err)
		}
		d.c.Timeline.Mark("round %d: new primary %s", round, np)
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	d.WaitHealthy(t, drillRejoinTimeout)
	recs := chaosAudit(t, cars, t0)
	failovers := 0
	for _, r := range recs {
		if r.acted() && r.failover() && r.Result == "executed" {
			failovers++
		}
	}
	cars.LogAudit(t, t0)
	if failovers < 2 {
		t.Fatalf("rsguard executed %d failover(s), the drill needs 2 (MongoDB's own election won a round?)", failovers)
	}
	if vs := checkQuorumVerdicts(recs, chaosQuorum(cars)); len(vs) > 0 {
		t.Errorf("quorum check: %v", vs)
	}
	vs := checkAntiFlap(recs, election.DefaultPolicy().AntiFlapWindow, nil)
	if len(vs) != 1 || vs[0].Invariant != invAntiFlap {
		t.Fatalf("the anti-flap check reported %v, want the second failover", vs)
	}
	t.Logf("caught: %s", vs[0])
}

// breakAntiFlap rewrites every sidecar's config with failover.anti_flap_window: 1s.
func breakAntiFlap(t testing.TB, cars *sidecarSet) {
	t.Helper()
	for _, c := range cars.cars {
		b, err := os.ReadFile(c.Config)
		if err != nil {
			t.Fatal(err)
		}
		const key = "failover:\n  enabled: true\n"
		if !strings.Contains(string(b), key) {
			t.Fatalf("%s: no %q section to extend", c.Config, key)
		}
		y := strings.Replace(string(b), key, key+"  anti_flap_window: 1s\n", 1)
		if err := os.WriteFile(c.Config, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
