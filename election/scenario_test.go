package election

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// scenario is one testdata file: a policy, a starting state and one or more ticks, each with the
// snapshot seen and the decision expected. State flows from tick to tick.
type scenario struct {
	Description string             `json:"description"`
	Policy      policyFile         `json:"policy"`
	State       State              `json:"state"`
	Steps       []step             `json:"steps"`
	Now         time.Time          `json:"now"`
	Snapshot    *topology.Snapshot `json:"snapshot"`
	Expect      *expect            `json:"expect"`
}

type step struct {
	Comment  string            `json:"comment"`
	Now      time.Time         `json:"now"` // defaults to snapshot.now
	Snapshot topology.Snapshot `json:"snapshot"`
	Expect   expect            `json:"expect"`
}

type expect struct {
	Analysis       string            `json:"analysis"`
	Primary        string            `json:"primary"`
	Action         ActionKind        `json:"action"`
	Target         string            `json:"target"`
	Secs           int               `json:"secs"`
	Reason         Reason            `json:"reason"`
	Proposed       ActionKind        `json:"proposed"`
	ProposedTarget string            `json:"proposed_target"`
	Excluded       map[string]string `json:"excluded"` // host -> exclusion code
	// Witnesses are the sidecars the verdict names (checked when given).
	Witnesses []string `json:"witnesses"`
	// Executor is the sidecar the proposed action is addressed to (Decision.Executor).
	Executor string `json:"executor"`
	// SelfReason is the reason on the snapshot's own sidecar when another sidecar executes
	// (refused_not_executor); the other fields describe the executor's decision.
	SelfReason Reason `json:"self_reason"`
}

// policyFile overlays DefaultPolicy; durations are Go duration strings ("10s").
type policyFile struct {
	Enabled        *bool             `json:"enabled"`
	DryRun         *bool             `json:"dry_run"`
	ElectionQuiet  *duration         `json:"election_quiet"`
	SickObservers  *int              `json:"sick_observers"`
	SickAfter      *duration         `json:"sick_after"`
	ProbeFailures  *int              `json:"probe_failures"`
	ProbeSlow      *duration         `json:"probe_slow"`
	WriteStall     *duration         `json:"write_stall"`
	SickStepDown   *bool             `json:"sick_step_down"`
	StepDownSecs   *int              `json:"step_down_secs"`
	MaxLag         *duration         `json:"max_lag"`
	PreferZones    []string          `json:"prefer_zones"`
	AvoidZones     []string          `json:"avoid_zones"`
	RequireTags    map[string]string `json:"require_tags"`
	AntiFlapWindow *duration         `json:"anti_flap_window"`
	PendingTimeout *duration         `json:"pending_timeout"`
	FenceAfter     *duration         `json:"fence_after"`
	FreezeSecs     *int              `json:"freeze_secs"`
	AbortCatchUp   *bool             `json:"abort_catch_up"`
}

type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = duration(v)
	return err
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func setDur(dst *time.Duration, src *duration) {
	if src != nil {
		*dst = time.Duration(*src)
	}
}

func (f policyFile) policy() Policy {
	p := DefaultPolicy()
	set(&p.Enabled, f.Enabled)
	set(&p.DryRun, f.DryRun)
	setDur(&p.ElectionQuiet, f.ElectionQuiet)
	set(&p.SickObservers, f.SickObservers)
	setDur(&p.SickAfter, f.SickAfter)
	set(&p.ProbeFailures, f.ProbeFailures)
	setDur(&p.ProbeSlow, f.ProbeSlow)
	setDur(&p.WriteStall, f.WriteStall)
	set(&p.SickStepDown, f.SickStepDown)
	set(&p.StepDownSecs, f.StepDownSecs)
	setDur(&p.MaxLag, f.MaxLag)
	setDur(&p.AntiFlapWindow, f.AntiFlapWindow)
	setDur(&p.PendingTimeout, f.PendingTimeout)
	setDur(&p.FenceAfter, f.FenceAfter)
	set(&p.FreezeSecs, f.FreezeSecs)
	set(&p.AbortCatchUp, f.AbortCatchUp)
	if f.PreferZones != nil {
		p.PreferZones = f.PreferZones
	}
	if f.AvoidZones != nil {
		p.AvoidZones = f.AvoidZones
	}
	if f.RequireTags != nil {
		p.RequireTags = f.RequireTags
	}
	return p
}

func loadScenario(path string) (scenario, error) {
	var sc scenario
	b, err := os.ReadFile(path)
	if err != nil {
		return sc, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return sc, fmt.Errorf("%s: %w", path, err)
	}
	if sc.Snapshot != nil {
		sc.Steps = append([]step{{Now: sc.Now, Snapshot: *sc.Snapshot, Expect: *sc.Expect}}, sc.Steps...)
	}
	if len(sc.Steps) == 0 {
		return sc, fmt.Errorf("%s: no steps", path)
	}
	return sc, nil
}

// prepare fills what the files leave implicit: a view's age is how long before now it was observed.
func prepare(st step) (topology.Snapshot, time.Time) {
	snap := st.Snapshot
	views := make(map[string]topology.ViewWithAge, len(snap.Views))
	for id, v := range snap.Views {
		if v.View.SidecarID == "" {
			v.View.SidecarID = id
		}
		if v.Age == 0 && !v.View.ObservedAt.IsZero() {
			v.Age = snap.Now.Sub(v.View.ObservedAt)
		}
		views[id] = v
	}
	snap.Views = views
	now := st.Now
	if now.IsZero() {
		now = snap.Now
	}
	return snap, now
}

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			sc, err := loadScenario(f)
			if err != nil {
				t.Fatal(err)
			}
			pol, state := sc.Policy.policy(), sc.State
			for i, st := range sc.Steps {
				snap, now := prepare(st)
				d, next := Decide(snap, state, pol, now)
				t.Logf("step %d: %s\n  evidence: %s", i, d, strings.Join(d.Analysis.Evidence, "\n            "))
				where := fmt.Sprintf("step %d (%s)", i, st.Comment)
				d, state = executorDecision(t, where, snap, state, next, pol, now, d, st.Expect)
				checkDecision(t, where, d, st.Expect)
			}
		})
	}
}

func checkDecision(t *testing.T, where string, d Decision, want expect) {
	t.Helper()
	fail := func(field string, got, exp any) {
		t.Errorf("%s: %s = %v, want %v\ndecision: %s\nevidence: %s", where, field, got, exp, d, strings.Join(d.Analysis.Evidence, "\n  "))
	}
	if want.Analysis != "" && d.Analysis.Kind.String() != want.Analysis {
		fail("analysis", d.Analysis.Kind, want.Analysis)
	}
	if want.Primary != "" && d.Analysis.Primary != want.Primary {
		fail("analysis primary", d.Analysis.Primary, want.Primary)
	}
	// Every scenario: a verdict that replaces a lost or sick primary names at least as many
	// witnesses as its quorum rule needs (what the chaos soak checks in the audit log).
	switch d.Analysis.Kind {
	case PrimaryProcessDead, PrimaryProcessUnresponsive, PrimaryHostUnreachable, SickPrimary:
		if d.Analysis.Needed < 1 || len(d.Analysis.Witnesses) < d.Analysis.Needed {
			fail("witnesses", fmt.Sprintf("%v (needed %d)", d.Analysis.Witnesses, d.Analysis.Needed), "at least the quorum")
		}
	}
	if want.Witnesses != nil && !slices.Equal(d.Analysis.Witnesses, want.Witnesses) {
		fail("witnesses", d.Analysis.Witnesses, want.Witnesses)
	}
	if want.Action == "" {
		want.Action = None
	}
	if d.Action.Kind != want.Action || d.Action.Host != want.Target {
		fail("action", d.Action, fmt.Sprintf("%s(%s)", want.Action, want.Target))
	}
	if want.Secs != 0 && d.Action.Secs != want.Secs {
		fail("action secs", d.Action.Secs, want.Secs)
	}
	if d.Reason != want.Reason {
		fail("reason", d.Reason, want.Reason)
	}
	if want.Proposed != "" && (d.Proposed.Kind != want.Proposed || d.Proposed.Host != want.ProposedTarget) {
		fail("proposed", d.Proposed, fmt.Sprintf("%s(%s)", want.Proposed, want.ProposedTarget))
	}
	if d.Reason.Refused() && !d.Action.IsNone() {
		fail("refusal with action", d.Action, "none")
	}
	for host, code := range want.Excluded {
		got := ""
		if d.Ranking != nil {
			for _, e := range d.Ranking.Excluded {
				if e.Host == host {
					got = string(e.Reason)
				}
			}
		}
		if got != code {
			fail("exclusion of "+host, got, code)
		}
	}
}

// executorDecision returns the decision that matters for the expectations: self's own, or, when
// another sidecar is addressed, that sidecar's decision on the same snapshot and state. The
// executor's next state must equal self's: the State evolves alike on every sidecar.
func executorDecision(t *testing.T, where string, snap topology.Snapshot, st, next State, p Policy, now time.Time, d Decision, want expect) (Decision, State) {
	t.Helper()
	if want.SelfReason != "" && d.Reason != want.SelfReason {
		t.Errorf("%s: reason on %s = %s, want %s", where, snap.Self, d.Reason, want.SelfReason)
	}
	if want.Executor != "" && d.Executor != want.Executor {
		t.Errorf("%s: executor = %q, want %q (%s)", where, d.Executor, want.Executor, d)
	}
	if d.Reason != RefusedNotExecutor {
		return d, next
	}
	es := snap
	es.Self = d.Executor
	ed, enext := Decide(es, st, p, now)
	t.Logf("  on executor %s: %s", d.Executor, ed)
	// A sidecar that is not the executor records nothing of the action (only the incident it
	// noticed): what was issued reaches it through the executor's gossiped memory.
	recorded := next.Pending != st.Pending
	for _, r := range next.Memory.Actions {
		recorded = recorded || r.By == snap.Self && r.At.Equal(now)
	}
	for _, r := range next.Memory.Failovers {
		recorded = recorded || r.By == snap.Self && r.At.Equal(now)
	}
	if recorded {
		t.Errorf("%s: %s, not the executor, recorded the action:\n%+v", where, snap.Self, next)
	}
	if ed.Reason == RefusedNotExecutor {
		t.Errorf("%s: %s addresses %s, which addresses %s", where, snap.Self, d.Executor, ed.Executor)
	}
	next.Memory = MergeMemory(next.Memory, enext.Memory)
	return ed, next
}
