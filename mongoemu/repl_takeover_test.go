package mongoemu

import (
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Election rules checked against topology_coordinator.cpp (_getMyUnelectableReason,
// _shouldTakeOverPrimary, _amIFreshEnoughForCatchupTakeover, prepareHeartbeatResponseV1,
// checkMemberTimeouts), replication_coordinator_impl_elect_v1.cpp (_startElectSelfV1) and
// replication_coordinator_impl_heartbeat.cpp (_handleHeartbeatResponseAction).

func (ts *testSet) term(i int) int64 {
	n := ts.nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.repl.term
}

func (ts *testSet) lastApplied(i int) opTime {
	n := ts.nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.repl.lastApplied
}

func (ts *testSet) waitCaughtUp(from int, members ...int) {
	ts.t.Helper()
	eventually(ts.t, 10*time.Second, "members caught up", func() bool {
		want := ts.lastApplied(from)
		for _, m := range members {
			if ts.lastApplied(m) != want {
				return false
			}
		}
		return true
	})
}

// A node that cannot see a majority of voters is unelectable ("I cannot see a majority",
// CannotSeeMajority): replSetStepUp fails without an election being called
// (becomeCandidateIfElectable refuses before _startElectSelfV1 counts it). Before, the node
// ran a dry run and electionMetrics.stepUpCmd.called went up.
func TestCannotSeeMajorityRefusesStepUp(t *testing.T) {
	ts := startSetPrimary0(t, 3, 0, bson.D{{Key: "electionTimeoutMillis", Value: 5000}, {Key: "heartbeatIntervalMillis", Value: 200}})
	ts.nodes[0].Stop(nil)
	ts.nodes[2].Stop(nil)
	eventually(t, 10*time.Second, "member 1 to see both others down", func() bool { return !ts.seesUp(1, 0) && !ts.seesUp(1, 2) })
	before := ts.electionMetric(1, "stepUpCmd", "called")
	err := ts.admin(1, bson.D{{Key: "replSetStepUp", Value: 1}}, nil)
	if err == nil || !strings.Contains(err.Error(), "Election failed.") {
		t.Fatalf("replSetStepUp without a majority: %v, want Election failed.", err)
	}
	if got := ts.electionMetric(1, "stepUpCmd", "called"); got != before {
		t.Fatalf("stepUpCmd.called went from %d to %d: the node stood for election without seeing a majority", before, got)
	}
	if got := ts.state(1); got != "SECONDARY" {
		t.Fatalf("member 1 is %s", got)
	}
}

// The dry run carries the candidate's current term (_startElectSelfV1 hands getTerm() to the
// VoteRequester; the real election then runs in term+1), and voters adopt a higher term from
// any vote request, dry runs included (processReplSetRequestVotes updates the term first).
// So a candidate one term behind a voter learns it is superseded in the dry run instead of
// winning. Before, the dry run proposed term+1, voters ignored dry-run terms, and the
// candidate won.
func TestDryRunCarriesCurrentTerm(t *testing.T) {
	ts := startSetPrimary0(t, 3, 0, bson.D{{Key: "electionTimeoutMillis", Value: 5000}, {Key: "heartbeatIntervalMillis", Value: 200}})
	writeMajority(t, ts, 0)
	ts.waitCaughtUp(0, 1, 2)
	term := ts.term(1)
	ts.nodes[0].Stop(nil)
	// Heartbeats carry terms too (a reply or request in a higher term updates ours): hold every
	// heartbeat between members 1 and 2 for the few seconds of the test, so that member 1 can
	// only learn member 2's newer term from its own dry run. Held, not failed: nobody is marked
	// down (that would make member 1 unelectable, CannotSeeMajority).
	for _, i := range []int{1, 2} {
		if err := ts.admin(i, bson.D{{Key: "configureFailPoint", Value: "failCommand"}, {Key: "mode", Value: "alwaysOn"},
			{Key: "data", Value: bson.D{{Key: "failCommands", Value: bson.A{"replSetHeartbeat"}}, {Key: "failInternalCommands", Value: true},
				{Key: "blockConnection", Value: true}, {Key: "blockTimeMS", Value: int32(4000)}}}}, nil); err != nil {
			t.Fatalf("hold heartbeats on %d: %v", i, err)
		}
	}
	// A dry run from a stale candidate in term+1 reaches member 2: refused (staler data), but
	// member 2 adopts term+1.
	var reply bson.M
	err := ts.admin(2, bson.D{{Key: "replSetRequestVotes", Value: 1}, {Key: "setName", Value: "rs0"}, {Key: "dryRun", Value: true},
		{Key: "term", Value: term + 1}, {Key: "candidateIndex", Value: int32(0)}, {Key: "configVersion", Value: int64(1)},
		{Key: "configTerm", Value: term}, {Key: "lastAppliedOpTime", Value: bson.D{{Key: "ts", Value: bson.Timestamp{T: 1, I: 1}}, {Key: "t", Value: int64(0)}}}}, &reply)
	if err != nil || reply["voteGranted"] != false {
		t.Fatalf("dry-run vote from a stale candidate: %v %v", reply, err)
	}
	if got := ts.term(2); got != term+1 {
		t.Fatalf("after a dry run in term %d the voter is in term %d", term+1, got)
	}
	// Member 1 (still in term) stands: its dry run in its current term meets a voter in a newer
	// term and stops there, adopting that term.
	if err := ts.admin(1, bson.D{{Key: "replSetStepUp", Value: 1}}, nil); err == nil {
		t.Fatalf("replSetStepUp won although a voter is a term ahead")
	}
	if got := ts.term(1); got != term+1 {
		t.Fatalf("candidate term %d after its dry run met a voter in term %d", got, term+1)
	}
	if got := ts.state(1); got != "SECONDARY" {
		t.Fatalf("member 1 is %s", got)
	}
}

// A priority takeover is scheduled (priorityRank+1) × electionTimeoutMillis plus a random
// offset below electionTimeoutMillis × 0.15 (_getRandomizedElectionOffset). Before, there was
// no offset.
func TestPriorityTakeoverHasRandomOffset(t *testing.T) {
	et := 5 * time.Second
	ts := startTestSet(t, 3, 0, nil)
	// Member 1 gets a higher priority than the primary, member 0.
	eventually(t, 30*time.Second, "member 0 writable primary", func() bool {
		if ts.leader(0) != leaderWritable {
			_ = ts.admin(0, bson.D{{Key: "replSetStepUp", Value: 1}}, nil)
		}
		return ts.leader(0) == leaderWritable
	})
	var cfg struct {
		Config bson.D `bson:"config"`
	}
	if err := ts.admin(0, bson.D{{Key: "replSetGetConfig", Value: 1}}, &cfg); err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	for i, e := range c {
		switch e.Key {
		case "version":
			c[i].Value = asInt32(e.Value) + 1
		case "members":
			m := e.Value.(bson.A)[1].(bson.D)
			for j := range m {
				if m[j].Key == "priority" {
					m[j].Value = 2.0
				}
			}
		case "settings":
			st := e.Value.(bson.D)
			for j := range st {
				switch st[j].Key {
				case "electionTimeoutMillis":
					st[j].Value = et.Milliseconds()
				case "heartbeatIntervalMillis":
					st[j].Value = int64(200)
				}
			}
		}
	}
	if err := ts.admin(0, bson.D{{Key: "replSetReconfig", Value: c}}, nil); err != nil {
		t.Fatalf("replSetReconfig: %v", err)
	}
	n := ts.nodes[1]
	eventually(t, 10*time.Second, "member 1 follows primary 0 in the new config, caught up", func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		rc := n.repl
		return rc.cfg.members[1].priority == 2 && rc.primary == 0 && rc.members[0].term == rc.term && rc.lastApplied.term == rc.term
	})
	n.mu.Lock()
	defer n.mu.Unlock()
	rc := n.repl
	saved := rc.takeoverAt
	var maxOff time.Duration
	for i := 0; i < 100; i++ {
		rc.takeoverAt = time.Time{}
		before := time.Now()
		rc.maybeScheduleTakeoverLocked(0)
		after := time.Now()
		if rc.takeoverAt.IsZero() {
			t.Fatalf("no priority takeover scheduled")
		}
		lo, hi := rc.takeoverAt.Sub(after)-et, rc.takeoverAt.Sub(before)-et
		if lo < -time.Millisecond || hi >= et*15/100+time.Millisecond {
			t.Fatalf("takeover offset in [%v, %v], want within [0, %v)", lo, hi, et*15/100)
		}
		maxOff = max(maxOff, lo)
	}
	rc.takeoverAt = saved
	if maxOff < et*5/100 {
		t.Fatalf("largest of 100 takeover offsets is %v: no random offset up to %v", maxOff, et*15/100)
	}
}

func asInt32(v any) int32 {
	switch x := v.(type) {
	case int32:
		return x
	case int64:
		return int32(x)
	}
	return 0
}

// A heartbeat received from a member credits it as alive (prepareHeartbeatResponseV1 calls
// updateLiveness), and a primary steps down only when a member goes silent for
// electionTimeoutMillis and then too few are up (checkMemberTimeouts). Here the arbiter
// answers heartbeats slower than the election timeout but keeps heartbeating the primary, and
// the only secondary dies: the primary keeps a majority. Before, liveness came from replies
// alone and the primary stepped down.
func TestHeartbeatsReceivedCountAsLiveness(t *testing.T) {
	ts := startSetPrimary0(t, 2, 1, bson.D{{Key: "electionTimeoutMillis", Value: 1000}, {Key: "heartbeatIntervalMillis", Value: 200}})
	if err := ts.admin(2, bson.D{{Key: "configureFailPoint", Value: "failCommand"}, {Key: "mode", Value: "alwaysOn"},
		{Key: "data", Value: bson.D{{Key: "failCommands", Value: bson.A{"replSetHeartbeat"}}, {Key: "failInternalCommands", Value: true},
			{Key: "blockConnection", Value: true}, {Key: "blockTimeMS", Value: 1600}}}}, nil); err != nil {
		t.Fatalf("failCommand on the arbiter: %v", err)
	}
	ts.nodes[1].Stop(nil)
	eventually(t, 10*time.Second, "primary to mark the secondary down", func() bool { return !ts.seesUp(0, 1) })
	// Watch three election timeouts: the primary must stay, although the arbiter's last
	// heartbeat reply is now and then older than the election timeout.
	var oldestReply time.Duration
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if ts.leader(0) != leaderWritable {
			t.Fatalf("the primary stepped down although the arbiter keeps heartbeating it")
		}
		ts.nodes[0].mu.Lock()
		oldestReply = max(oldestReply, time.Since(ts.nodes[0].repl.members[2].lastHeartbeat))
		ts.nodes[0].mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	if oldestReply < time.Second {
		t.Fatalf("the arbiter's replies were never older than the election timeout (%v): the test proved nothing", oldestReply)
	}
}

// A secondary fresher than a primary stuck in catch-up takes over after
// catchUpTakeoverDelayMillis (reason "catchupTakeover"), with the primary's own yes in the dry
// run. Five members: 0 and 1 have writes that 2, 3 and 4 never fetched; 0 dies; 2 is elected
// by 2, 3 and 4 and cannot catch up (it fetches nothing); 1 takes over. Before, 2 stayed in
// catch-up for ever.
func TestCatchUpTakeover(t *testing.T) {
	ts := startSetPrimary0(t, 5, 0, bson.D{{Key: "electionTimeoutMillis", Value: 3000}, {Key: "heartbeatIntervalMillis", Value: 200},
		{Key: "catchUpTakeoverDelayMillis", Value: 1000}})
	writeMajority(t, ts, 0)
	ts.waitCaughtUp(0, 1, 2, 3, 4)
	for _, i := range []int{2, 3, 4} {
		for _, fp := range []string{"stopReplProducer", "rsSyncApplyStop"} {
			if err := ts.admin(i, bson.D{{Key: "configureFailPoint", Value: fp}, {Key: "mode", Value: "alwaysOn"}}, nil); err != nil {
				t.Fatalf("%s on %d: %v", fp, i, err)
			}
		}
	}
	ts.insertW2ToMember1()
	if !ts.lastApplied(2).less(ts.lastApplied(1)) {
		t.Fatalf("member 2 applied the w:2 write: the scenario needs it behind member 1")
	}
	ts.nodes[0].Stop(nil)
	eventually(t, 10*time.Second, "member 2 elected", func() bool {
		_ = ts.admin(2, bson.D{{Key: "replSetStepUp", Value: 1}}, nil)
		return ts.state(2) == "PRIMARY" || ts.leader(1) != leaderNone
	})
	eventually(t, 15*time.Second, "member 1 writable primary", func() bool { return ts.leader(1) == leaderWritable })
	if got := ts.candidateMetrics(1).Lookup("lastElectionReason").StringValue(); got != "catchupTakeover" {
		t.Fatalf("lastElectionReason %q, want catchupTakeover", got)
	}
	if got := ts.electionMetric(1, "catchUpTakeover", "successful"); got != 1 {
		t.Fatalf("catchUpTakeover.successful = %d, want 1", got)
	}
	if got := ts.electionMetric(2, "numCatchUpsFailedWithNewTerm"); got != 1 {
		t.Fatalf("member 2 numCatchUpsFailedWithNewTerm = %d, want 1", got)
	}
}
