package e2e

import (
	"strings"
	"testing"
	"time"
)

// The chaos soak's checkers can fail: each is fed a synthetic stream with one violation, which
// it must report, and a clean stream, which it must not. No processes.

var chaosT0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func chaosAt(secs float64) time.Time { return chaosT0.Add(time.Duration(secs * float64(time.Second))) }

// wantViolations fails unless got holds exactly n violations of inv, each naming its hosts.
func wantViolations(t *testing.T, got []chaosViolation, inv chaosInvariant, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d violations, want %d: %v", len(got), n, got)
	}
	for _, v := range got {
		if v.Invariant != inv || len(v.Hosts) == 0 || v.At.IsZero() || v.Detail == "" {
			t.Errorf("violation %v: want invariant %s with time, hosts and detail", v, inv)
		}
	}
}

func TestChaosInvariantOnePrimaryPerTerm(t *testing.T) {
	clean := []writableObs{
		{chaosAt(0), "a:1", 1}, {chaosAt(1), "a:1", 1},
		{chaosAt(2), "b:1", 2}, {chaosAt(2.1), "a:1", 1}, // a deposed primary still writable in its old term
		{chaosAt(3), "b:1", 2}, {chaosAt(9), "c:1", 4},
	}
	wantViolations(t, checkOnePrimaryPerTerm(clean), invOnePrimaryPerTerm, 0)

	split := append(clean, writableObs{chaosAt(10), "a:1", 4}, writableObs{chaosAt(11), "b:1", 4})
	got := checkOnePrimaryPerTerm(split)
	wantViolations(t, got, invOnePrimaryPerTerm, 1) // term 4 is reported once
	if !strings.Contains(got[0].Detail, "term 4") || got[0].Hosts[0] != "c:1" || got[0].Hosts[1] != "a:1" {
		t.Errorf("violation %v: want term 4, c:1 then a:1", got[0])
	}
}

func TestChaosInvariantNoLostAcks(t *testing.T) {
	present := map[int64]bool{1: true, 2: true, 3: true, 5: true}
	wantViolations(t, checkNoLostAcks(chaosAt(0), "b:1", []int64{1, 2, 5}, present), invNoLostAck, 0)
	got := checkNoLostAcks(chaosAt(0), "b:1", []int64{1, 2, 4, 5}, present)
	wantViolations(t, got, invNoLostAck, 1)
	if !strings.Contains(got[0].Detail, "[4]") {
		t.Errorf("violation %v: want the lost id 4", got[0])
	}
}

// quorum4 is the drills' layout: three data sidecars and an arbiter sidecar; a majority is 3.
var quorum4 = quorumRule{Sidecars: []string{"node-a", "node-b", "node-c", "arb-1"}, SickObservers: 2}

func stepUp(secs float64, by, from, to, kind string, witnesses ...string) actionRec {
	return actionRec{At: chaosAt(secs), Sidecar: by, Action: "step_up", Target: to, Primary: from, Term: 1, Kind: kind,
		Reason: kind, Actor: "auto", Result: "executed", Coordinator: "arb-1", Witnesses: witnesses}
}

func TestChaosInvariantQuorumVerdict(t *testing.T) {
	dead := stepUp(1, "node-b", "a:1", "b:1", "primary_process_dead", "node-a", "node-b", "node-c")
	sick := stepUp(2, "node-c", "a:1", "c:1", "sick_primary", "arb-1", "node-a")
	refused := stepUp(3, "node-b", "a:1", "b:1", "primary_unreachable_uncorroborated", "node-b")
	refused.Result = "refused"
	operator := stepUp(4, "node-b", "a:1", "b:1", "healthy")
	operator.Actor = "operator:e2e"
	freeze := actionRec{At: chaosAt(5), Sidecar: "node-b", Action: "freeze", Target: "a:1", Kind: "healthy", Actor: "auto", Result: "executed"}
	wantViolations(t, checkQuorumVerdicts([]actionRec{dead, sick, refused, operator, freeze}, quorum4), invQuorumVerdict, 0)

	twoVotes := stepUp(6, "node-b", "a:1", "b:1", "primary_host_unreachable", "node-b", "node-c",
		"node-b", // one sidecar twice is one vote
		"node-x") // and a sidecar outside the configuration is none
	noCoord := dead
	noCoord.Coordinator = ""
	oneWitness := stepUp(7, "node-c", "a:1", "c:1", "sick_primary", "node-a")
	wrongVerdict := stepUp(8, "node-b", "a:1", "b:1", "primary_unreachable_from_me_only", "node-b")
	failed := twoVotes
	failed.Result = "failed: timeout" // an attempt counts as much as a success
	got := checkQuorumVerdicts([]actionRec{twoVotes, noCoord, oneWitness, wrongVerdict, failed}, quorum4)
	wantViolations(t, got, invQuorumVerdict, 5)
	for i, want := range []string{"needs 3 of 4", "without a quorum", "needs 2 of 4", "does not call for", "needs 3 of 4"} {
		if !strings.Contains(got[i].Detail, want) {
			t.Errorf("violation %d %v: want %q", i, got[i], want)
		}
	}
}

func TestChaosInvariantAntiFlap(t *testing.T) {
	window := 5 * time.Minute
	first := stepUp(0, "node-b", "a:1", "b:1", "primary_process_dead")
	retry := stepUp(15, "node-b", "a:1", "b:1", "primary_process_dead")    // same incident, after the pending timeout
	later := stepUp(299.5, "node-c", "b:1", "c:1", "primary_process_dead") // at the window's edge (audit times trail decisions)
	wantViolations(t, checkAntiFlap([]actionRec{first, retry, later}, window, nil), invAntiFlap, 0)

	flap := stepUp(60, "node-c", "b:1", "c:1", "primary_host_unreachable")
	got := checkAntiFlap([]actionRec{first, retry, flap}, window, nil)
	wantViolations(t, got, invAntiFlap, 1)
	if got[0].At != flap.At {
		t.Errorf("violation at %s, want the second failover's time %s", got[0].At, flap.At)
	}

	// An operator's acknowledgement in between lifts the block.
	ack := actionRec{At: chaosAt(30), Sidecar: "node-a", Action: "acknowledge", Actor: "operator:e2e", Result: "executed"}
	wantViolations(t, checkAntiFlap([]actionRec{first, ack, flap}, window, nil), invAntiFlap, 0)

	// The same former primary, re-elected in a newer term and lost again, is a new incident.
	again := stepUp(90, "node-c", "a:1", "c:1", "primary_process_dead")
	reelected := []writableObs{{chaosAt(40), "a:1", 5}}
	wantViolations(t, checkAntiFlap([]actionRec{first, again}, window, nil), invAntiFlap, 0)
	wantViolations(t, checkAntiFlap([]actionRec{first, again}, window, reelected), invAntiFlap, 1)
}

func TestChaosInvariantAudited(t *testing.T) {
	audit := []actionRec{
		stepUp(1.002, "node-b", "a:1", "b:1", "primary_process_dead"),
		{At: chaosAt(30), Sidecar: "node-a", Action: "freeze", Target: "a:1", Actor: "auto", Result: "executed"},
	}
	seen := []actionSeen{
		{At: chaosAt(1.002), Source: "status", Sidecar: "node-b", Action: "step_up", Target: "b:1"},
		{At: chaosAt(1), Source: "history", Primary: "a:1", Target: "b:1"},
		{At: chaosAt(30), Source: "status", Sidecar: "node-a", Action: "freeze", Target: "a:1"},
	}
	wantViolations(t, checkAudited(seen, audit), invAudited, 0)

	missing := append(seen,
		actionSeen{At: chaosAt(50), Source: "status", Sidecar: "node-c", Action: "fence", Target: "c:1"},
		actionSeen{At: chaosAt(1.002), Source: "status", Sidecar: "node-c", Action: "step_up", Target: "b:1"}, // another sidecar's line
		actionSeen{At: chaosAt(60), Source: "history", Primary: "b:1", Target: "c:1"},
	)
	got := checkAudited(missing, audit)
	wantViolations(t, got, invAudited, 3)
	if !strings.Contains(got[2].Detail, "some sidecar executed a failover to c:1") {
		t.Errorf("violation %v: want the history failover named", got[2])
	}
}
