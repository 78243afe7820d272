package e2e

import (
	"cmp"
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

// chaosHealTimeout bounds the heal after each fault: MongoDB's own election (the anti-flap
// window keeps rsguard out of most), a restart, a rollback and the rejoin.
const chaosHealTimeout = 90 * time.Second

// TestDrillChaos is the chaos soak (issue 11, item 5): three data members with their sidecars
// and an arbiter sidecar on its own host, MongoDB's default election settings, rsguard's default
// policy, a w:"majority" insert workload, and a seeded random schedule of faults for
// $RSGUARD_CHAOS (30s by default, `make soak` runs 30m): SIGKILL of a mongod, a frozen host,
// a cut link, lagging secondaries, a disk stall, a killed sidecar, each undone after a random
// hold, the set healed (a primary, every member healthy, every sidecar ready) before the next.
//
// Invariants (chaos_invariants_test.go), checked all along and at the end; a violation fails the
// test naming the invariant, the seed, the time and the hosts:
//
//   - at most one writable primary per term (hello on every member, ~10 times a second);
//   - no acknowledged w:"majority" insert lost (majority read on the primary after every heal);
//   - every automatic failover carries a quorum verdict (audit lines);
//   - no automatic failover inside the anti-flap window of the previous one unless acknowledged;
//   - every action the sidecars' status or the set's history report is in an audit log.
func TestDrillChaos(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	cfg := chaosSettingsFromEnv(t)
	var fw *harness.Firewall
	if slices.Contains(cfg.Kinds, chaosLinkCut) {
		var why string
		var err error
		if fw, why, err = chaosFirewall(t); err != nil {
			t.Fatal(err)
		}
		if fw == nil {
			t.Logf("chaos: no link cuts in this soak: %s", why)
			cfg.Kinds = slices.DeleteFunc(cfg.Kinds, func(k chaosKind) bool { return k == chaosLinkCut })
			if len(cfg.Kinds) == 0 {
				t.Skipf("chaos: link cuts were the only fault kind asked for ($%s) and: %s", envChaosFaults, why)
			}
		}
	}
	replay := fmt.Sprintf("replay: %s go test ./e2e/ -run TestDrillChaos -v", cfg)
	t.Logf("chaos soak: %s", replay)

	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	if fw != nil {
		fw.Timeline = d.c.Timeline
	}
	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{})
	cars.Start(t)
	cars.WaitSettled(t, drillSettleTimeout)
	d.WaitHealthy(t, drillRejoinTimeout)
	lab := newChaosLab(t, d, cars, fw)
	obs := startChaosObserver(d.data, cars, d.c.Timeline)
	defer obs.Stop()
	w := startWorkload(t, d, "chaos")
	waitAcks(t, w, 5)
	acks := newChaosAcks(t, w)
	ctx := context.Background()
	policy := election.DefaultPolicy()
	quorum := chaosQuorum(cars)

	t0 := d.c.Timeline.Zero("chaos start: %s", cfg).When
	fail := func(format string, args ...any) {
		t.Helper()
		cars.LogAudit(t, t0)
		t.Fatalf("CHAOS FAILURE, seed %d (%s): %s", cfg.Seed, replay, fmt.Sprintf(format, args...))
	}
	// check runs every invariant on what was seen so far; final adds the sidecars' history.
	var fromStatus, fromHistory int // actions the audit check compared
	check := func(final bool) {
		t.Helper()
		vs := obs.Violations()
		recs := chaosAudit(t, cars, t0)
		vs = append(vs, checkQuorumVerdicts(recs, quorum)...)
		vs = append(vs, checkAntiFlap(recs, policy.AntiFlapWindow, obs.Writable())...)
		seen := obs.Actions()
		if final {
			hist, err := chaosHistory(ctx, cars, t0)
			if err != nil {
				fail("reading the history: %v", err)
			}
			seen = append(seen, hist...)
			fromHistory = len(hist)
		}
		fromStatus = len(obs.Actions())
		vs = append(vs, checkAudited(seen, recs)...)
		if len(vs) > 0 {
			var b strings.Builder
			for _, v := range vs {
				fmt.Fprintf(&b, "\n  VIOLATION %s", v)
			}
			fail("%d invariant violation(s):%s", len(vs), b.String())
		}
	}

	sched := newChaosSchedule(cfg.Seed, cfg.Kinds)
	faults := map[chaosKind]int{}
	var heals []time.Duration
	acked := 0
	for {
		left := cfg.Duration - time.Since(t0)
		if left < time.Second {
			break
		}
		f := sched.next()
		if err := lab.quiet(min(f.Gap, left), obs); err != nil {
			fail("before fault %s: %v", f, err)
		}
		if left = cfg.Duration - time.Since(t0); left < time.Second {
			break
		}
		f.Hold = min(f.Hold, left.Round(100*time.Millisecond))
		desc, err := lab.apply(ctx, f)
		if err != nil {
			fail("fault %s: %v", f, err)
		}
		faults[f.Kind]++
		d.c.Timeline.Mark("FAULT %s: %s", f, desc)
		if err := lab.quiet(f.Hold, obs); err != nil {
			fail("during fault %s (%s): %v", f, desc, err)
		}
		if err := lab.undoFault(ctx); err != nil {
			fail("undoing fault %s (%s): %v", f, desc, err)
		}
		d.c.Timeline.Mark("undone #%d %s", f.N, f.Kind)
		healStart := time.Now()
		p, err := lab.heal(ctx, chaosHealTimeout)
		if err != nil {
			cars.DumpStatus(t)
			fail("the set did not heal within %s after fault %s (%s): %v", chaosHealTimeout, f, desc, err)
		}
		heals = append(heals, time.Since(healStart))
		d.c.Timeline.Mark("healed after #%d in %s: primary %s", f.N, secs(heals[len(heals)-1]), p)
		var vs []chaosViolation
		if acked, vs = acks.check(ctx, p); len(vs) > 0 {
			fail("%s", vs[0])
		}
		check(false)
	}
	d.c.Timeline.Mark("chaos end")
	w.Stop()
	p := d.WaitHealthy(t, chaosHealTimeout)
	var vs []chaosViolation
	if acked, vs = acks.check(ctx, p); len(vs) > 0 {
		fail("%s", vs[0])
	}
	check(true)

	recs := chaosAudit(t, cars, t0)
	var executed []string
	for _, r := range recs {
		if r.acted() {
			executed = append(executed, fmt.Sprintf("%s %s (%s, %s)", r.Action, r.Target, r.Reason, r.Result))
		}
	}
	hellos, terms := obs.Counts()
	total := 0
	var counts []string
	for _, k := range slices.Sorted(maps.Keys(faults)) {
		total += faults[k]
		counts = append(counts, fmt.Sprintf("%s x%d", k, faults[k]))
	}
	slices.Sort(heals)
	rep := newDrillReport(fmt.Sprintf("Drill 15: chaos soak, %s, seed %d", cfg.Duration, cfg.Seed))
	rep.note("%d faults: %s", total, strings.Join(counts, ", "))
	if len(heals) > 0 {
		rep.note("heal after each fault: median %s, max %s", secs(heals[len(heals)/2]), secs(heals[len(heals)-1]))
	}
	rep.note("%d terms with a writable primary (%d writable hellos seen), %d acknowledged w:majority inserts all present on %s (majority read)",
		terms, hellos, acked, p)
	rep.note("rsguard actions executed (%d): %s", len(executed), cmp.Or(strings.Join(executed, "; "), "none"))
	rep.note("audit check: %d actions from the sidecars' status and %d failovers from their history, each matched to its audit line", fromStatus, fromHistory)
	rep.note("invariants held: one writable primary per term, no lost majority write, quorum verdicts, anti-flap (%s), every action audited", policy.AntiFlapWindow)
	rep.publish(t)
	cars.LogAudit(t, t0)
}
