package mongoemu

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// testSet is an in-process replica set of emulator nodes on 127.0.0.1 with distinct ports.
type testSet struct {
	t       *testing.T
	nodes   []*testNode
	clients []*mongo.Client
}

// fastSettings shrink mongod's timings the way tests of real mongod do (spec §9 "Clocks").
var fastSettings = bson.D{{Key: "electionTimeoutMillis", Value: 1000}, {Key: "heartbeatIntervalMillis", Value: 200}}

func startTestSet(t *testing.T, members int, arbiters int, settings bson.D) *testSet {
	t.Helper()
	return startTestSetWith(t, members, arbiters, settings, Options{})
}

func startTestSetWith(t *testing.T, members int, arbiters int, settings bson.D, base Options) *testSet {
	t.Helper()
	ts := &testSet{t: t}
	for i := 0; i < members+arbiters; i++ {
		o := base
		o.ReplSet = "rs0"
		o.Parameters = map[string]string{"enableTestCommands": "1"}
		for k, v := range base.Parameters {
			o.Parameters[k] = v
		}
		n := startTestNode(t, o)
		ts.nodes = append(ts.nodes, n)
		ts.clients = append(ts.clients, n.client(t))
	}
	var ms bson.A
	for i, n := range ts.nodes {
		m := bson.D{{Key: "_id", Value: i}, {Key: "host", Value: n.Addr()}}
		if i >= members {
			m = append(m, bson.E{Key: "arbiterOnly", Value: true})
		}
		ms = append(ms, m)
	}
	cfg := bson.D{{Key: "_id", Value: "rs0"}, {Key: "members", Value: ms}}
	if settings != nil {
		cfg = append(cfg, bson.E{Key: "settings", Value: settings})
	}
	if err := ts.admin(0, bson.D{{Key: "replSetInitiate", Value: cfg}}, nil); err != nil {
		t.Fatalf("replSetInitiate: %v", err)
	}
	return ts
}

func (ts *testSet) admin(i int, cmd bson.D, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res := ts.clients[i].Database("admin").RunCommand(ctx, cmd)
	if out == nil {
		return res.Err()
	}
	return res.Decode(out)
}

func (ts *testSet) state(i int) string {
	var st struct {
		MyState int `bson:"myState"`
	}
	if err := ts.admin(i, bson.D{{Key: "replSetGetStatus", Value: 1}}, &st); err != nil {
		return "error: " + err.Error()
	}
	return memberState(st.MyState).String()
}

// waitPrimary polls until exactly one node says PRIMARY and returns its index.
func (ts *testSet) waitPrimary(d time.Duration, skip ...int) int {
	ts.t.Helper()
	idx := -1
	eventually(ts.t, d, "a primary", func() bool {
		idx = -1
		for i, n := range ts.nodes {
			if contains(fmt.Sprint(skip), fmt.Sprint(i)) && len(skip) > 0 && isIn(i, skip) {
				continue
			}
			n.mu.Lock()
			writable := n.repl.leader == leaderWritable
			n.mu.Unlock()
			if writable {
				idx = i
			}
		}
		return idx >= 0
	})
	return idx
}

func isIn(i int, xs []int) bool {
	for _, x := range xs {
		if x == i {
			return true
		}
	}
	return false
}

func TestReplSetInitiateElectsAndReportsStatus(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	eventually(t, 20*time.Second, "all members healthy", func() bool {
		var st struct {
			Members []struct {
				Health   float64 `bson:"health"`
				StateStr string  `bson:"stateStr"`
			} `bson:"members"`
		}
		if err := ts.admin(p, bson.D{{Key: "replSetGetStatus", Value: 1}}, &st); err != nil {
			return false
		}
		secondaries := 0
		for _, m := range st.Members {
			if m.Health == 1 && m.StateStr == "SECONDARY" {
				secondaries++
			}
		}
		return secondaries == 2
	})
	var hello bson.M
	if err := ts.admin(p, bson.D{{Key: "hello", Value: 1}}, &hello); err != nil {
		t.Fatal(err)
	}
	if hello["isWritablePrimary"] != true || hello["setName"] != "rs0" {
		t.Fatalf("primary hello: %v", hello)
	}
	if _, ok := hello["electionId"].(bson.ObjectID); !ok {
		t.Fatalf("electionId missing: %v", hello)
	}
}

// setClient is a replica-set client over every member, writing with w:majority.
func (ts *testSet) setClient(t *testing.T) *mongo.Client {
	t.Helper()
	hosts := ""
	for i, n := range ts.nodes {
		if i > 0 {
			hosts += ","
		}
		hosts += n.Addr()
	}
	c, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + hosts + "/?replicaSet=rs0&w=majority&serverSelectionTimeoutMS=15000"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// restart stops node i and starts it again on the same dbpath and port.
func (ts *testSet) restart(i int, params map[string]string) {
	ts.t.Helper()
	old := ts.nodes[i]
	old.Stop(nil)
	opts := old.opts
	opts.Port = old.Port()
	if params != nil {
		opts.Parameters = params
	}
	var n *testNode
	eventually(ts.t, 10*time.Second, "port free for restart", func() bool {
		nn, err := New(opts)
		if err != nil {
			return false
		}
		n = &testNode{Node: nn, errc: make(chan error, 1)}
		return true
	})
	go func() { n.errc <- n.Serve(context.Background()) }()
	ts.t.Cleanup(func() { n.Stop(nil) })
	ts.nodes[i] = n
	ts.clients[i] = n.client(ts.t)
}

func (ts *testSet) count(i int, coll string) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := ts.clients[i].Database("test").Collection(coll).CountDocuments(ctx, bson.D{})
	if err != nil {
		return -1
	}
	return n
}

func TestReplSetMajorityWritesReachEveryMember(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	ts.waitPrimary(20 * time.Second)
	c := ts.setClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	coll := c.Database("test").Collection("acked")
	for i := 0; i < 50; i++ {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "v", Value: "x"}}); err != nil {
			t.Fatalf("w:majority insert %d: %v", i, err)
		}
	}
	for i := range ts.nodes {
		eventually(t, 10*time.Second, fmt.Sprintf("member %d has all 50 documents", i), func() bool {
			return ts.count(i, "acked") == 50
		})
	}
}

func TestReplSetStepDownHandsOffAndStepUpElects(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	c := ts.setClient(t)
	ctx := context.Background()
	if _, err := c.Database("test").Collection("c").InsertOne(ctx, bson.D{{Key: "a", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := ts.admin(p, bson.D{{Key: "replSetStepDown", Value: 30}}, nil); err != nil {
		t.Fatalf("replSetStepDown: %v", err)
	}
	q := ts.waitPrimary(10*time.Second, p)
	if q == p {
		t.Fatalf("old primary %d re-elected inside its stepdown period", p)
	}
	// Freezing the primary fails with NotSecondary (95); stepping down a secondary with 10107.
	var cmdErr mongo.CommandError
	if err := ts.admin(q, bson.D{{Key: "replSetFreeze", Value: 10}}, nil); !errorAs(err, &cmdErr) || cmdErr.Code != 95 {
		t.Fatalf("freeze on primary: want 95, got %v", err)
	}
	if err := ts.admin(p, bson.D{{Key: "replSetStepDown", Value: 10}}, nil); !errorAs(err, &cmdErr) || cmdErr.Code != 10107 {
		t.Fatalf("stepDown on secondary: want 10107, got %v", err)
	}
	// replSetStepUp on a third member makes it primary once it has caught up: voters refuse a
	// staler candidate (spec §5.3), so wait for its optime to match the primary's.
	r := 3 - p - q
	eventually(t, 10*time.Second, "third member caught up", func() bool {
		ts.nodes[q].mu.Lock()
		want := ts.nodes[q].repl.lastApplied
		ts.nodes[q].mu.Unlock()
		ts.nodes[r].mu.Lock()
		got := ts.nodes[r].repl.lastApplied
		ts.nodes[r].mu.Unlock()
		return got == want
	})
	// It may also need the new primary's config term first (voters refuse an older config), so
	// retry like an operator would.
	var stepUpErr error
	eventually(t, 15*time.Second, "replSetStepUp to succeed", func() bool {
		stepUpErr = ts.admin(r, bson.D{{Key: "replSetStepUp", Value: 1}}, nil)
		return stepUpErr == nil
	})
	// replSetStepUp answers once r is PRIMARY; the former primary q steps down when a heartbeat
	// brings it the new term, so for a moment both may say PRIMARY (a CI flake read q then).
	eventually(t, 10*time.Second, fmt.Sprintf("member %d, stepped up, to be the primary", r), func() bool {
		return ts.waitPrimary(time.Second) == r
	})
}

func TestReplSetSecondaryFallsOffOplogThenResyncs(t *testing.T) {
	ts := startTestSetWith(t, 3, 0, fastSettings, Options{OplogSizeMB: 1})
	p := ts.waitPrimary(20 * time.Second)
	victim := (p + 1) % 3
	ts.nodes[victim].Stop(nil)
	c := ts.setClient(t)
	coll := c.Database("test").Collection("big")
	pad := strings.Repeat("x", 8<<10)
	ctx := context.Background()
	for i := 0; i < 400; i++ { // ~3.2 MB through a 1 MB oplog
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "pad", Value: pad}}); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	ts.restart(victim, nil)
	eventually(t, 30*time.Second, "victim RECOVERING with tooStale", func() bool {
		var st bson.M
		if err := ts.admin(victim, bson.D{{Key: "replSetGetStatus", Value: 1}}, &st); err != nil {
			return false
		}
		return st["myState"] == int32(3) && st["tooStale"] == true
	})
	// Resync: stop, wipe the dbpath, start empty -> STARTUP2 (initial sync) -> SECONDARY (§7.5).
	dbpath := ts.nodes[victim].opts.DBPath
	ts.nodes[victim].Stop(nil)
	if err := os.RemoveAll(dbpath); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dbpath, 0o755); err != nil {
		t.Fatal(err)
	}
	ts.restart(victim, map[string]string{"enableTestCommands": "1", "mongoemuInitialSyncDocsPerSecond": "200"})
	sawProgress := false
	eventually(t, 60*time.Second, "victim SECONDARY after initial sync", func() bool {
		var st struct {
			MyState int `bson:"myState"`
			ISS     *struct {
				Databases bson.Raw `bson:"databases"`
			} `bson:"initialSyncStatus"`
		}
		if err := ts.admin(victim, bson.D{{Key: "replSetGetStatus", Value: 1}}, &st); err != nil {
			return false
		}
		if st.MyState == 5 && st.ISS != nil {
			if copied, err := st.ISS.Databases.LookupErr("test", "test.big", "documentsCopied"); err == nil {
				if n, _ := copied.AsInt64OK(); n > 0 && n < 400 {
					sawProgress = true
				}
			}
		}
		return st.MyState == 2
	})
	if !sawProgress {
		t.Errorf("initialSyncStatus with per-database progress was never visible during STARTUP2")
	}
	if n := ts.count(victim, "big"); n != 400 {
		t.Fatalf("resynced member has %d documents, want 400", n)
	}
}

func errorAs(err error, target *mongo.CommandError) bool {
	if err == nil {
		return false
	}
	ce, ok := err.(mongo.CommandError)
	if ok {
		*target = ce
	}
	return ok
}

// A driver retries a write once after a network error or a RetryableWriteError. When the first
// attempt had committed, the retry (same lsid and txnNumber) must not run again: here the retry
// goes to a different member after failover and still answers n: 1 without a duplicate key.
func TestReplSetRetriedWriteAnswersOriginalOutcome(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	lsid := bson.D{{Key: "id", Value: bson.Binary{Subtype: 4, Data: []byte("0123456789abcdef")}}}
	insert := bson.D{{Key: "insert", Value: "retry"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: 1}}}},
		{Key: "lsid", Value: lsid}, {Key: "txnNumber", Value: int64(7)},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: "majority"}}}}
	var first struct {
		N int `bson:"n"`
	}
	ctx := context.Background()
	if err := ts.clients[p].Database("test").RunCommand(ctx, insert).Decode(&first); err != nil || first.N != 1 {
		t.Fatalf("first attempt: n=%d err=%v", first.N, err)
	}
	if err := ts.admin(p, bson.D{{Key: "replSetStepDown", Value: 30}}, nil); err != nil {
		t.Fatalf("stepDown: %v", err)
	}
	q := ts.waitPrimary(15*time.Second, p)
	var retry bson.M
	if err := ts.clients[q].Database("test").RunCommand(ctx, insert).Decode(&retry); err != nil {
		t.Fatalf("retry on new primary: %v", err)
	}
	if retry["n"] != int32(1) || retry["writeErrors"] != nil {
		t.Fatalf("retry should answer the original outcome, got %v", retry)
	}
	older := append(bson.D{}, insert...)
	older[3] = bson.E{Key: "txnNumber", Value: int64(6)}
	if err := ts.clients[q].Database("test").RunCommand(ctx, older).Err(); err == nil {
		t.Fatalf("an older txnNumber on the same session must be refused")
	}
}

// An idle primary writes a periodic no-op (spec §5.4); it must not need a client request.
func TestReplSetIdlePrimaryWritesPeriodicNoop(t *testing.T) {
	ts := startTestSetWith(t, 1, 0, nil, Options{Parameters: map[string]string{"periodicNoopIntervalSecs": "1"}})
	p := ts.waitPrimary(20 * time.Second)
	ts.nodes[p].mu.Lock()
	before := ts.nodes[p].repl.lastApplied
	ts.nodes[p].mu.Unlock()
	eventually(t, 15*time.Second, "a periodic no-op after idling", func() bool {
		ts.nodes[p].mu.Lock()
		defer ts.nodes[p].mu.Unlock()
		return before.less(ts.nodes[p].repl.lastApplied)
	})
}

// replSetMaintenance, replSetSyncFrom and replSetAbortPrimaryCatchUp (spec §6.4, §6.5, §6.8).
func TestReplSetMaintenanceSyncFromAbortCatchUp(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	s1, s2 := (p+1)%3, (p+2)%3
	eventually(t, 10*time.Second, "secondaries up", func() bool { return ts.state(s1) == "SECONDARY" && ts.state(s2) == "SECONDARY" })
	code := func(err error) int32 {
		var ce mongo.CommandError
		if errorAs(err, &ce) {
			return ce.Code
		}
		return -1
	}
	if err := ts.admin(s1, bson.D{{Key: "replSetMaintenance", Value: true}}, nil); err != nil {
		t.Fatalf("maintenance on: %v", err)
	}
	if got := ts.state(s1); got != "RECOVERING" {
		t.Fatalf("in maintenance the member is %s, want RECOVERING", got)
	}
	if err := ts.admin(s1, bson.D{{Key: "replSetMaintenance", Value: false}}, nil); err != nil {
		t.Fatalf("maintenance off: %v", err)
	}
	if got := ts.state(s1); got != "SECONDARY" {
		t.Fatalf("after maintenance the member is %s", got)
	}
	if c := code(ts.admin(s1, bson.D{{Key: "replSetMaintenance", Value: false}}, nil)); c != 96 {
		t.Fatalf("leaving maintenance twice: code %d, want OperationFailed 96", c)
	}
	if c := code(ts.admin(p, bson.D{{Key: "replSetMaintenance", Value: true}}, nil)); c != 95 {
		t.Fatalf("maintenance on the primary: code %d, want NotSecondary 95", c)
	}
	var sf bson.M
	if err := ts.admin(s1, bson.D{{Key: "replSetSyncFrom", Value: ts.nodes[s2].Addr()}}, &sf); err != nil || sf["syncFromRequested"] != ts.nodes[s2].Addr() {
		t.Fatalf("replSetSyncFrom: %v %v", sf, err)
	}
	if c := code(ts.admin(s1, bson.D{{Key: "replSetSyncFrom", Value: ts.nodes[s1].Addr()}}, nil)); c != 72 {
		t.Fatalf("sync from myself: code %d, want InvalidOptions 72", c)
	}
	if c := code(ts.admin(p, bson.D{{Key: "replSetSyncFrom", Value: ts.nodes[s1].Addr()}}, nil)); c != 95 {
		t.Fatalf("sync from on the primary: code %d, want NotSecondary 95", c)
	}
	if c := code(ts.admin(p, bson.D{{Key: "replSetAbortPrimaryCatchUp", Value: 1}}, nil)); c != 20 {
		t.Fatalf("abort catch-up outside catch-up: code %d, want IllegalOperation 20", c)
	}
}
