package drill

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/drill/check"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// majority writes acknowledged every 100ms from -1000ms to 0, then nothing until okFrom, then
// every 100ms to 3000ms; one failed write in between.
func syntheticOps(okFrom int) []Op {
	var ops []Op
	id := int64(1)
	for ms := -1000; ms <= 3000; ms += 100 {
		if ms > 0 && ms < okFrom {
			continue
		}
		ops = append(ops, Op{Kind: OpMajority, ID: id, Start: at(ms - 5), End: at(ms)})
		id++
	}
	ops = append(ops, Op{Kind: OpMajority, ID: 999, Start: at(50), End: at(1050), Err: "timeout"})
	ops = append(ops, Op{Kind: OpRead, Start: at(10), End: at(20), Err: ErrStaleRead},
		Op{Kind: OpRead, Start: at(30), End: at(40)}, Op{Kind: OpW1, ID: 2e12, Start: at(-50), End: at(-40)})
	return ops
}

func members(primary string, others map[string]Role) []Member {
	ms := []Member{}
	for _, h := range []string{"a:1", "b:1", "c:1"} {
		r := RoleSecondary
		if h == primary {
			r = RolePrimary
		}
		if o, ok := others[h]; ok {
			r = o
		}
		state := string(r)
		if r == RoleOther {
			state = "DOWN"
		}
		ms = append(ms, Member{Host: h, Role: r, State: state})
	}
	return ms
}

func killRecording() Recording {
	audit, _ := json.Marshal(map[string]any{"time": at(900), "reason": "primary_process_dead", "result": "executed",
		"analysis": map[string]any{"kind": "primary_process_dead", "primary": "a:1"}})
	return Recording{
		Scenario: "kill-primary", Target: "test", Expect: Expect{Failover: true, Recovery: true},
		Start: at(-2000), Fault: t0, Undo: at(3000), End: at(5000),
		Subject: "a:1", FormerPrimary: "a:1", Every: 100 * time.Millisecond,
		Ops: syntheticOps(1500),
		States: []StateSample{
			{At: at(-100), Members: members("a:1", nil)},
			{At: at(500), Members: members("", map[string]Role{"a:1": RoleOther})},
			{At: at(1200), Members: members("b:1", map[string]Role{"a:1": RoleOther})},
			{At: at(3100), Members: members("b:1", map[string]Role{"a:1": RoleOther})},
			{At: at(4000), Members: members("b:1", nil)},
		},
		Events: []api.Event{
			{Kind: api.EventIncident, Time: at(-5000), Member: "a:1", Summary: "an old incident"},
			{Kind: api.EventIncident, Time: at(700), Member: "a:1", Summary: "primary a:1 found dead"},
			{Kind: api.EventFailover, Time: at(1000), Reason: "primary_process_dead", To: "b:1"},
			{Kind: api.EventRollbackArchived, Time: at(4500), Member: "a:1", Summary: "rollback files of a:1 archived"},
		},
		Audit:    []json.RawMessage{audit},
		Majority: check.Accounting{Acked: 30},
		W1:       check.Accounting{Acked: 1, Lost: []string{"2000000000000"}},
	}
}

func TestMeasureKillPrimary(t *testing.T) {
	r := Measure(killRecording())
	if r.Verdict != VerdictPass || len(r.Problems) > 0 {
		t.Fatalf("verdict %s, problems %v", r.Verdict, r.Problems)
	}
	checks := []struct {
		name string
		got  *Ms
		want Ms
	}{
		{"detection", r.DetectionMs, 700},
		{"decision", r.DecisionMs, 1000},
		{"new primary", r.NewPrimaryMs, 1200},
		{"writable primary", r.WritablePrimaryMs, 1500},
		{"undo", r.UndoMs, 3000},
		{"recovered", r.RecoveredMs, 4000},
		{"recovery", r.RecoveryMs, 1000},
		{"paused from", r.PausedFromMs, 0},
		{"paused to", r.PausedToMs, 1500},
	}
	for _, c := range checks {
		if c.got == nil || *c.got != c.want {
			t.Errorf("%s: got %v, want %d", c.name, c.got, c.want)
		}
	}
	if r.WriteUnavailableMs != 1500 {
		t.Errorf("write unavailable %d ms, want 1500", r.WriteUnavailableMs)
	}
	if r.Decision != "primary_process_dead" || r.NewPrimary != "b:1" || r.Failovers != 1 {
		t.Errorf("decision %q new primary %q failovers %d", r.Decision, r.NewPrimary, r.Failovers)
	}
	if r.RolledBack != 1 || r.RollbackFiles != 1 || r.AckedLost != 0 {
		t.Errorf("rolled back %d, rollback files %d, acked lost %d", r.RolledBack, r.RollbackFiles, r.AckedLost)
	}
	if r.Reads.Stale != 1 || r.Reads.OK != 1 || r.Majority.Failed != 1 {
		t.Errorf("reads %+v, majority %+v", r.Reads, r.Majority)
	}
	if len(r.Audit) != 1 || r.Timeline[0].Kind != MarkFault {
		t.Errorf("audit %d lines, timeline %+v", len(r.Audit), r.Timeline)
	}
	for i := 1; i < len(r.Timeline); i++ {
		if r.Timeline[i].AtMs < r.Timeline[i-1].AtMs {
			t.Errorf("timeline out of order: %+v", r.Timeline)
		}
	}
}

func TestMeasurePlannedHasNoDetection(t *testing.T) {
	rec := killRecording()
	rec.Expect.Planned = true
	if r := Measure(rec); r.DetectionMs != nil || r.Verdict != VerdictPass {
		t.Errorf("planned: detection %v, verdict %s", r.DetectionMs, r.Verdict)
	}
}

func TestMeasureDetectionFallsBackToAudit(t *testing.T) {
	rec := killRecording()
	rec.Events = nil
	r := Measure(rec)
	if r.DetectionMs == nil || *r.DetectionMs != 900 || !strings.Contains(r.Detection, "primary_process_dead") {
		t.Errorf("detection %v %q, want 900ms from the audit line", r.DetectionMs, r.Detection)
	}
	if r.Decision != "primary_process_dead" || *r.DecisionMs != 900 {
		t.Errorf("decision %q at %v, want the audit line's", r.Decision, r.DecisionMs)
	}
}

func TestMeasureSplitBrainIsNotDetection(t *testing.T) {
	rec := killRecording()
	rec.Events = nil
	rec.Audit[0] = json.RawMessage(`{"time":"` + at(50).Format(time.RFC3339Nano) + `","reason":"refused_newer_primary_exists","result":"refused","analysis":{"kind":"split_brain_suspected","primary":"a:1"}}`)
	if r := Measure(rec); r.DetectionMs != nil {
		t.Errorf("detection %v (%s): a split brain suspected after the fault is not its detection", *r.DetectionMs, r.Detection)
	}
}

func TestMeasureFailsExpectations(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Recording)
		want string
	}{
		{"lost write", func(r *Recording) { r.Majority.Lost = []string{"7"} }, "1 acknowledged w:\"majority\" inserts lost"},
		{"phantom", func(r *Recording) { r.Majority.Phantoms = []string{"x"} }, "no client inserted"},
		{"no failover", func(r *Recording) { r.States = r.States[:2] }, "no member other than a:1 became primary"},
		{"no writes after", func(r *Recording) { r.Ops = syntheticOps(99999) }, "no w:\"majority\" insert was acknowledged"},
		{"not recovered", func(r *Recording) { r.States = r.States[:4] }, "a:1 did not come back"},
		{"unneeded failover", func(r *Recording) { r.Expect = Expect{SamePrimary: true} }, "must not fail over"},
		{"flapping", func(r *Recording) {
			r.Expect.MaxFailovers = 1
			r.States = append(r.States, StateSample{At: at(4100), Members: members("a:1", nil)})
		}, "flapping"},
		{"read back", func(r *Recording) { r.ReadBackErr = "no primary" }, "could not be read back"},
		{"runner", func(r *Recording) { r.Problems = []string{"undo failed"} }, "undo failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := killRecording()
			c.edit(&rec)
			r := Measure(rec)
			if r.Verdict != VerdictFail || !strings.Contains(strings.Join(r.Problems, "\n"), c.want) {
				t.Errorf("verdict %s, problems %q, want one containing %q", r.Verdict, r.Problems, c.want)
			}
		})
	}
}

func TestLongestGapAndStatsAround(t *testing.T) {
	ops := syntheticOps(1500)
	if d := LongestGap(ops, OpMajority, t0, at(3000)); d != 1500*time.Millisecond {
		t.Errorf("gap %s, want 1.5s", d)
	}
	if d := LongestGap(ops, OpMajority, at(2000), at(3000)); d != 100*time.Millisecond {
		t.Errorf("gap after the outage %s, want 100ms", d)
	}
	a := StatsAround(ops, OpMajority, t0, 100*time.Millisecond)
	if a.FirstOK == nil || a.FirstOK.End != at(1500) || a.FirstFail == nil || a.FirstFail.ID != 999 || a.Failed != 1 {
		t.Fatalf("around: %+v", a)
	}
	if got := a.Outage(t0); got != 1450*time.Millisecond {
		t.Errorf("outage %s, want 1.45s (from the failed write's start at 50ms)", got)
	}
}
