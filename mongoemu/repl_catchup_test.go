package mongoemu

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Catch-up after an election (spec §5.4 step 2), checked against mongod's CatchupState
// (replication_coordinator_impl.cpp) and TopologyCoordinator::
// latestKnownOpTimeSinceHeartbeatRestart (topology_coordinator.cpp): the target is unknown,
// and the new primary not writable, until every other member answered a heartbeat sent after
// the win or was marked down.

// startSetPrimary0 initiates a set and makes member 0 primary with replSetStepUp, so tests
// with long election timeouts need not wait for the timer.
func startSetPrimary0(t *testing.T, members, arbiters int, settings bson.D) *testSet {
	t.Helper()
	ts := startTestSet(t, members, arbiters, settings)
	eventually(t, 30*time.Second, "member 0 writable primary after replSetStepUp", func() bool {
		if ts.leader(0) != leaderWritable {
			_ = ts.admin(0, bson.D{{Key: "replSetStepUp", Value: 1}}, nil)
		}
		return ts.leader(0) == leaderWritable
	})
	eventually(t, 30*time.Second, "the other members SECONDARY or ARBITER", func() bool {
		for i := 1; i < members+arbiters; i++ {
			if s := ts.state(i); s != "SECONDARY" && s != "ARBITER" {
				return false
			}
		}
		return true
	})
	return ts
}

func (ts *testSet) leader(i int) leaderMode {
	n := ts.nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.repl.leader
}

// seesUp reports whether node i considers member j up (health 1).
func (ts *testSet) seesUp(i, j int) bool {
	n := ts.nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.repl.members[j].up
}

// electionMetric is a number from serverStatus.electionMetrics of node i ("a.b" for nested).
func (ts *testSet) electionMetric(i int, path ...string) int64 {
	ts.t.Helper()
	var ss bson.Raw
	if err := ts.admin(i, bson.D{{Key: "serverStatus", Value: 1}}, &ss); err != nil {
		ts.t.Fatalf("serverStatus: %v", err)
	}
	v, ok := numberAsInt64(ss.Lookup(append([]string{"electionMetrics"}, path...)...))
	if !ok {
		ts.t.Fatalf("serverStatus has no electionMetrics.%v", path)
	}
	return v
}

// candidateMetrics is replSetGetStatus.electionCandidateMetrics of node i.
func (ts *testSet) candidateMetrics(i int) bson.Raw {
	ts.t.Helper()
	var st bson.Raw
	if err := ts.admin(i, bson.D{{Key: "replSetGetStatus", Value: 1}}, &st); err != nil {
		ts.t.Fatalf("replSetGetStatus: %v", err)
	}
	m, _ := st.Lookup("electionCandidateMetrics").DocumentOK()
	return m
}

// hang makes member i answer nothing: every command it receives, heartbeats and vote requests
// included, blocks (failCommand with failAllCommands and blockConnection), which is what the
// others see of a SIGSTOPped mongod. (Stopping the node and listening on its port instead
// leaves a window in which connections are refused, and a refused member is marked down at
// once.) Its own outgoing traffic goes on; the e2e test freezes a real process.
func (ts *testSet) hang(i int) {
	ts.t.Helper()
	if err := ts.admin(i, bson.D{{Key: "configureFailPoint", Value: "failCommand"}, {Key: "mode", Value: "alwaysOn"},
		{Key: "data", Value: bson.D{{Key: "failAllCommands", Value: true}, {Key: "failInternalCommands", Value: true},
			{Key: "blockConnection", Value: true}, {Key: "blockTimeMS", Value: int32(600000)}}}}, nil); err != nil {
		ts.t.Fatalf("hang member %d: %v", i, err)
	}
}

func writeMajority(t *testing.T, ts *testSet, i int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := ts.clients[i].Database("test").RunCommand(ctx, bson.D{{Key: "insert", Value: "c"},
		{Key: "documents", Value: bson.A{bson.D{{Key: "x", Value: 1}}}},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: "majority"}}}})
	if err := res.Err(); err != nil {
		t.Fatalf("w:majority insert on %d: %v", i, err)
	}
}

// A new primary whose former primary hangs stays in catch-up until that member is marked
// down: heartbeatTimeoutSecs (2 s here) after the heartbeat to it began. Before the fix a
// 250 ms grace let it write while the hung member was still considered up.
func TestCatchUpHeldUntilHungMemberMarkedDown(t *testing.T) {
	ts := startSetPrimary0(t, 3, 0, bson.D{{Key: "electionTimeoutMillis", Value: 5000},
		{Key: "heartbeatIntervalMillis", Value: 200}, {Key: "heartbeatTimeoutSecs", Value: 2}})
	writeMajority(t, ts, 0)
	before := ts.electionMetric(1, "numCatchUpsAlreadyCaughtUp")
	ts.hang(0)
	hung := time.Now()
	ts.stepUpWins(1)
	stepUp := time.Since(hung)
	eventually(t, 15*time.Second, "member 1 writable", func() bool {
		if ts.leader(1) != leaderWritable {
			return false
		}
		if ts.seesUp(1, 0) {
			t.Fatalf("member 1 accepted writes while it still considered the hung member up")
		}
		return true
	})
	writable := time.Since(hung)
	t.Logf("stepUp answered %v after the member hung, writable after %v", stepUp, writable)
	// The heartbeat that never returns began at most one interval (0.2 s) before the hang.
	if writable < 1500*time.Millisecond {
		t.Fatalf("writable %v after the hang: sooner than heartbeatTimeoutSecs (2 s) allows", writable)
	}
	if got := ts.electionMetric(1, "numCatchUpsAlreadyCaughtUp"); got != before+1 {
		t.Fatalf("numCatchUpsAlreadyCaughtUp = %d, want %d", got, before+1)
	}
}

// replSetStepUp answers once the node is PRIMARY, before catch-up (stepUpIfEligible waits for
// the election-finished event only); meanwhile hello says it is not writable but secondary
// (fillHelloForReplSet: "Report that we are secondary ... until drain completes"). Then
// replSetAbortPrimaryCatchUp ends catch-up at once (abortCatchupIfNeeded) although the hung
// member is still considered up. Before the fix stepUp answered only once writable, and the
// abort found no catch-up to end.
func TestStepUpAnswersInCatchUpAndAbortEndsIt(t *testing.T) {
	ts := startSetPrimary0(t, 3, 0, bson.D{{Key: "electionTimeoutMillis", Value: 5000},
		{Key: "heartbeatIntervalMillis", Value: 200}})
	writeMajority(t, ts, 0)
	ts.hang(0)
	ts.stepUpWins(1)
	if got := ts.leader(1); got != leaderCatchUp {
		t.Fatalf("replSetStepUp answered in leader mode %d, want catch-up (%d)", got, leaderCatchUp)
	}
	if got := ts.state(1); got != "PRIMARY" {
		t.Fatalf("replSetGetStatus says %s during catch-up, want PRIMARY", got)
	}
	me := ts.nodes[1].Addr()
	var hello bson.M
	if err := ts.admin(1, bson.D{{Key: "hello", Value: 1}}, &hello); err != nil {
		t.Fatal(err)
	}
	if hello["isWritablePrimary"] != false || hello["secondary"] != true || hello["primary"] != me || hello["electionId"] == nil {
		t.Fatalf("hello during catch-up: isWritablePrimary=%v secondary=%v primary=%v electionId=%v",
			hello["isWritablePrimary"], hello["secondary"], hello["primary"], hello["electionId"])
	}
	var isMaster bson.M
	if err := ts.admin(1, bson.D{{Key: "isMaster", Value: 1}}, &isMaster); err != nil {
		t.Fatal(err)
	}
	if isMaster["ismaster"] != false || isMaster["secondary"] != true {
		t.Fatalf("isMaster during catch-up: ismaster=%v secondary=%v", isMaster["ismaster"], isMaster["secondary"])
	}
	if err := ts.admin(1, bson.D{{Key: "replSetAbortPrimaryCatchUp", Value: 1}}, nil); err != nil {
		t.Fatalf("replSetAbortPrimaryCatchUp: %v", err)
	}
	eventually(t, 3*time.Second, "member 1 writable after the abort", func() bool { return ts.leader(1) == leaderWritable })
	if !ts.seesUp(1, 0) {
		t.Fatalf("the hung member was marked down already: the abort proved nothing")
	}
	if got := ts.electionMetric(1, "numCatchUpsFailedWithReplSetAbortPrimaryCatchUpCmd"); got != 1 {
		t.Fatalf("numCatchUpsFailedWithReplSetAbortPrimaryCatchUpCmd = %d, want 1", got)
	}
}

// With every member answering, catch-up ends as soon as the heartbeats after the win are in.
func TestCatchUpWithAllMembersAnsweringIsPrompt(t *testing.T) {
	ts := startSetPrimary0(t, 3, 0, bson.D{{Key: "electionTimeoutMillis", Value: 5000},
		{Key: "heartbeatIntervalMillis", Value: 200}})
	writeMajority(t, ts, 0)
	before := ts.electionMetric(1, "numCatchUpsAlreadyCaughtUp")
	start := time.Now()
	eventually(t, 10*time.Second, "replSetStepUp on member 1", func() bool {
		return ts.admin(1, bson.D{{Key: "replSetStepUp", Value: 1}}, nil) == nil
	})
	eventually(t, 3*time.Second, "member 1 writable", func() bool { return ts.leader(1) == leaderWritable })
	t.Logf("writable %v after replSetStepUp was sent", time.Since(start))
	if got := ts.electionMetric(1, "numCatchUpsAlreadyCaughtUp"); got != before+1 {
		t.Fatalf("numCatchUpsAlreadyCaughtUp = %d, want %d", got, before+1)
	}
	m := ts.candidateMetrics(1)
	if n, ok := numberAsInt64(m.Lookup("numCatchUpOps")); !ok || n != 0 || m.Lookup("lastElectionReason").StringValue() != "stepUpRequest" {
		t.Fatalf("electionCandidateMetrics: %v", m)
	}
}

// catchUpTimeoutMillis ends catch-up (CatchupState::start schedules the timeout; log 21361).
func TestCatchUpTimeoutEndsCatchUp(t *testing.T) {
	ts := startSetPrimary0(t, 3, 0, bson.D{{Key: "electionTimeoutMillis", Value: 5000},
		{Key: "heartbeatIntervalMillis", Value: 200}, {Key: "catchUpTimeoutMillis", Value: 300}})
	writeMajority(t, ts, 0)
	ts.hang(0)
	ts.stepUpWins(1)
	eventually(t, 3*time.Second, "member 1 writable after the catch-up timeout", func() bool { return ts.leader(1) == leaderWritable })
	if got := ts.electionMetric(1, "numCatchUpsTimedOut"); got != 1 {
		t.Fatalf("numCatchUpsTimedOut = %d, want 1", got)
	}
}

// catchUpTimeoutMillis 0 skips catch-up (log 21360, numCatchUpsSkipped), even with a hung
// member. Before, the skip was counted as already caught up.
func TestCatchUpTimeoutZeroSkipsCatchUp(t *testing.T) {
	ts := startSetPrimary0(t, 3, 0, bson.D{{Key: "electionTimeoutMillis", Value: 5000},
		{Key: "heartbeatIntervalMillis", Value: 200}, {Key: "catchUpTimeoutMillis", Value: 0}})
	writeMajority(t, ts, 0)
	ts.hang(0)
	ts.stepUpWins(1)
	eventually(t, 3*time.Second, "member 1 writable", func() bool { return ts.leader(1) == leaderWritable })
	if !ts.seesUp(1, 0) {
		t.Fatalf("the hung member was marked down already: the skip proved nothing")
	}
	if got := ts.electionMetric(1, "numCatchUpsSkipped"); got != 1 {
		t.Fatalf("numCatchUpsSkipped = %d, want 1", got)
	}
}

// A primary-elect behind a reachable member fetches up to the target and then succeeds:
// numCatchUps and numCatchUpsSucceeded count it, electionCandidateMetrics shows
// targetCatchupOpTime and numCatchUpOps (ReplicationMetrics setTargetCatchupOpTime /
// setNumCatchUpOps). Five members: 0 and 1 have a write 2, 3 and 4 have not; 0 dies; 2 is
// elected by 2, 3 and 4, then may fetch again and catches up from 1.
func TestCatchUpFetchesToTheTarget(t *testing.T) {
	ts := startSetPrimary0(t, 5, 0, bson.D{{Key: "electionTimeoutMillis", Value: 3000}, {Key: "heartbeatIntervalMillis", Value: 200}})
	writeMajority(t, ts, 0)
	ts.waitCaughtUp(0, 1, 2, 3, 4)
	fail := func(i int, mode string) {
		for _, fp := range []string{"stopReplProducer", "rsSyncApplyStop"} {
			if err := ts.admin(i, bson.D{{Key: "configureFailPoint", Value: fp}, {Key: "mode", Value: mode}}, nil); err != nil {
				t.Fatalf("%s %s on %d: %v", fp, mode, i, err)
			}
		}
	}
	for _, i := range []int{2, 3, 4} {
		fail(i, "alwaysOn")
	}
	ts.insertW2ToMember1()
	target := ts.lastApplied(1)
	ts.nodes[0].Stop(nil)
	ts.stepUpWins(2)
	eventually(t, 5*time.Second, "member 2 to set its catch-up target", func() bool {
		_, ok := ts.candidateMetrics(2).Lookup("targetCatchupOpTime").DocumentOK()
		return ok
	})
	if ts.leader(2) != leaderCatchUp {
		t.Fatalf("member 2 left catch-up without the write it lacks")
	}
	fail(2, "off")
	eventually(t, 10*time.Second, "member 2 writable", func() bool { return ts.leader(2) == leaderWritable })
	m := ts.candidateMetrics(2)
	got, _ := opTimeFromValue(m.Lookup("targetCatchupOpTime"))
	if got != target {
		t.Fatalf("targetCatchupOpTime %v, want member 1's %v", got, target)
	}
	if n, ok := numberAsInt64(m.Lookup("numCatchUpOps")); !ok || n != 1 {
		t.Fatalf("numCatchUpOps %v, want 1", m.Lookup("numCatchUpOps"))
	}
	if a, b := ts.electionMetric(2, "numCatchUps"), ts.electionMetric(2, "numCatchUpsSucceeded"); a != 1 || b != 1 {
		t.Fatalf("numCatchUps %d, numCatchUpsSucceeded %d, want 1 and 1", a, b)
	}
}

// insertW2ToMember1 inserts one document on member 0 with w:2 and waits until member 1 has it:
// the other members (their fail points on) stay behind.
func (ts *testSet) insertW2ToMember1() {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.clients[0].Database("test").RunCommand(ctx, bson.D{{Key: "insert", Value: "c"},
		{Key: "documents", Value: bson.A{bson.D{{Key: "y", Value: 1}}}},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: 2}}}}).Err(); err != nil {
		ts.t.Fatalf("w:2 insert: %v", err)
	}
	ts.waitCaughtUp(0, 1)
}

// stepUpWins runs replSetStepUp on member i until it wins: on a loaded machine an election can be
// lost (a vote request timing out, a periodic no-op landing between dry run and vote).
func (ts *testSet) stepUpWins(i int) {
	ts.t.Helper()
	eventually(ts.t, 15*time.Second, fmt.Sprintf("replSetStepUp on member %d to win", i), func() bool {
		err := ts.admin(i, bson.D{{Key: "replSetStepUp", Value: 1}}, nil)
		if err != nil {
			ts.t.Logf("replSetStepUp on %d: %v (trying again)", i, err)
		}
		return err == nil
	})
}
