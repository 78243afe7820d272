package mongoemu

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var testCommandsOn = map[string]string{"enableTestCommands": "1"}

// needCRUD skips tests that write through the driver until the CRUD commands are registered.
func needCRUD(t *testing.T, tn *testNode) {
	t.Helper()
	if tn.cmds["insert"] == nil || tn.cmds["find"] == nil {
		t.Skip("insert/find are not registered yet (cmd_crud.go)")
	}
}

func setFailPoint(t *testing.T, c *mongo.Client, name string, mode any, data bson.D) bson.Raw {
	t.Helper()
	cmd := bson.D{{Key: "configureFailPoint", Value: name}, {Key: "mode", Value: mode}}
	if data != nil {
		cmd = append(cmd, bson.E{Key: "data", Value: data})
	}
	reply, err := runAdmin(t, c, cmd)
	if err != nil {
		t.Fatalf("configureFailPoint %s: %v", name, err)
	}
	return reply
}

func ping(ctx context.Context, c *mongo.Client) error {
	return c.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

func TestAdminConfigureFailPointIsTestOnly(t *testing.T) {
	c := startTestNode(t, Options{}).client(t)
	_, err := runAdmin(t, c, bson.D{{Key: "configureFailPoint", Value: "failCommand"}, {Key: "mode", Value: "off"}})
	wantCode(t, err, 59, "no such command: 'configureFailPoint'")
}

func TestAdminFailCommand(t *testing.T) {
	tn := startTestNode(t, Options{Parameters: testCommandsOn})
	c := tn.client(t)
	ctx := testCtx(t)

	t.Run("errorCode with times 1 fires once", func(t *testing.T) {
		setFailPoint(t, c, "failCommand", bson.D{{Key: "times", Value: 1}},
			bson.D{{Key: "failCommands", Value: bson.A{"ping"}}, {Key: "errorCode", Value: 2}})
		wantCode(t, ping(ctx, c), 2, "Failing command via 'failCommand' failpoint")
		if err := ping(ctx, c); err != nil {
			t.Fatalf("second ping should pass: %v", err)
		}
		off := setFailPoint(t, c, "failCommand", "off", nil)
		if i32(off, "count") != 1 {
			t.Fatalf("count = %v, want 1 activation", off.Lookup("count"))
		}
	})
	t.Run("closeConnection is a network error", func(t *testing.T) {
		setFailPoint(t, c, "failCommand", bson.D{{Key: "times", Value: 1}},
			bson.D{{Key: "failCommands", Value: bson.A{"ping"}}, {Key: "closeConnection", Value: true}})
		if err := ping(ctx, c); !mongo.IsNetworkError(err) {
			t.Fatalf("want a network error, got %v", err)
		}
		if err := ping(ctx, c); err != nil {
			t.Fatalf("driver should reconnect: %v", err)
		}
	})
	t.Run("blockConnection delays the reply", func(t *testing.T) {
		setFailPoint(t, c, "failCommand", bson.D{{Key: "times", Value: 1}},
			bson.D{{Key: "failCommands", Value: bson.A{"ping"}}, {Key: "blockConnection", Value: true}, {Key: "blockTimeMS", Value: 300}})
		start := time.Now()
		if err := ping(ctx, c); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Fatalf("blocked ping returned after %v, before blockTimeMS", d)
		}
	})
	t.Run("appName only affects that client", func(t *testing.T) {
		victim := tn.client(t, options.Client().SetAppName("victim"))
		setFailPoint(t, c, "failCommand", "alwaysOn",
			bson.D{{Key: "failCommands", Value: bson.A{"ping"}}, {Key: "errorCode", Value: 2}, {Key: "appName", Value: "victim"}})
		defer setFailPoint(t, c, "failCommand", "off", nil)
		for range 2 {
			wantCode(t, ping(ctx, victim), 2, "failCommand")
			if err := ping(ctx, c); err != nil {
				t.Fatalf("other client failed: %v", err)
			}
		}
	})
	t.Run("errorCode 10107 on insert", func(t *testing.T) {
		needCRUD(t, tn)
		noRetry := tn.client(t, options.Client().SetRetryWrites(false))
		setFailPoint(t, c, "failCommand", bson.D{{Key: "times", Value: 1}},
			bson.D{{Key: "failCommands", Value: bson.A{"insert"}}, {Key: "errorCode", Value: 10107}})
		coll := noRetry.Database("test").Collection("fc")
		_, err := coll.InsertOne(ctx, bson.D{{Key: "x", Value: 1}})
		var we mongo.WriteException
		var ce mongo.CommandError
		switch {
		case errors.As(err, &ce) && ce.Code == 10107:
		case errors.As(err, &we) && we.HasErrorCode(10107):
		default:
			t.Fatalf("want NotWritablePrimary (10107), got %v", err)
		}
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "x", Value: 2}}); err != nil {
			t.Fatalf("times:1 should fire once: %v", err)
		}
	})
}

// stalledWrite starts an insert that should block; it returns the channel its result arrives on.
func stalledWrite(c *mongo.Client, doc bson.D) chan error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := c.Database("test").Collection("stall").InsertOne(ctx, doc)
		done <- err
	}()
	return done
}

// assertStalled checks reads and hello still answer while the write stays blocked.
func assertStalled(t *testing.T, c *mongo.Client, done chan error) {
	t.Helper()
	ctx := testCtx(t)
	for range 3 {
		if err := c.Database("test").Collection("stall").FindOne(ctx, bson.D{}).Err(); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			t.Fatalf("find during stall: %v", err)
		}
		if _, err := runAdmin(t, c, bson.D{{Key: "hello", Value: 1}}); err != nil {
			t.Fatalf("hello during stall: %v", err)
		}
		select {
		case err := <-done:
			t.Fatalf("write finished during the stall: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitWrite(t *testing.T, done chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("write after the stall ended: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("write still blocked after the stall ended")
	}
}

func TestAdminDiskStallFailPoint(t *testing.T) {
	tn := startTestNode(t, Options{Parameters: testCommandsOn})
	needCRUD(t, tn)
	c := tn.client(t)
	setFailPoint(t, c, "mongoemuDiskStall", "alwaysOn", bson.D{{Key: "blocked", Value: true}})
	done := stalledWrite(c, bson.D{{Key: "_id", Value: 1}})
	assertStalled(t, c, done)
	setFailPoint(t, c, "mongoemuDiskStall", "off", nil)
	waitWrite(t, done)
}

func TestAdminFsyncLock(t *testing.T) {
	tn := startTestNode(t, Options{})
	c := tn.client(t)
	plain, err := runAdmin(t, c, bson.D{{Key: "fsync", Value: 1}})
	if err != nil || i32(plain, "numFiles") != 1 {
		t.Fatalf("fsync: %v %v", plain, err)
	}
	_, err = runAdmin(t, c, bson.D{{Key: "fsyncUnlock", Value: 1}})
	wantCode(t, err, 125, "fsyncUnlock called when not locked")

	locked, err := runAdmin(t, c, bson.D{{Key: "fsync", Value: 1}, {Key: "lock", Value: true}})
	if err != nil || locked.Lookup("lockCount").Int64() != 1 ||
		str(locked, "info") != "now locked against writes, use db.fsyncUnlock() to unlock" {
		t.Fatalf("fsync lock: %v %v", locked, err)
	}
	var done chan error
	if tn.cmds["insert"] != nil {
		done = stalledWrite(c, bson.D{{Key: "_id", Value: "locked"}})
		assertStalled(t, c, done)
	}
	un, err := runAdmin(t, c, bson.D{{Key: "fsyncUnlock", Value: 1}})
	if err != nil || un.Lookup("lockCount").Int64() != 0 || str(un, "info") != "fsyncUnlock completed" {
		t.Fatalf("fsyncUnlock: %v %v", un, err)
	}
	if done != nil {
		waitWrite(t, done)
	}
}

func TestAdminShutdownCommand(t *testing.T) {
	tn := startTestNode(t, Options{})
	c := tn.client(t)
	err := c.Database("admin").RunCommand(testCtx(t), bson.D{{Key: "shutdown", Value: 1}}).Err()
	if !mongo.IsNetworkError(err) {
		t.Fatalf("shutdown should end in a network error (no reply), got %v", err)
	}
	select {
	case err := <-tn.errc:
		if err != nil {
			t.Fatalf("Serve after shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
}

// TestAdminFailCommandRetryableWrite: on a replica set the driver retries a write that failed
// with a retryable code once (the server labels it RetryableWriteError), so a {times: 1}
// NotWritablePrimary is invisible to the application.
func TestAdminFailCommandRetryableWrite(t *testing.T) {
	tn := initiateSet(t, 1, 1000, func(nodes []*testNode) bool {
		st, writable := memberStateOf(nodes[0])
		return st == statePrimary && writable
	})[0]
	needCRUD(t, tn)
	c := tn.client(t)
	ctx := testCtx(t)
	setFailPoint(t, c, "failCommand", bson.D{{Key: "times", Value: 1}},
		bson.D{{Key: "failCommands", Value: bson.A{"insert"}}, {Key: "errorCode", Value: 10107}})
	if _, err := c.Database("test").Collection("fc").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatalf("retryable insert should succeed on retry: %v", err)
	}
	off := setFailPoint(t, c, "failCommand", "off", nil)
	if i32(off, "count") != 1 {
		t.Fatalf("the fail point fired %v times, want 1", off.Lookup("count"))
	}
}

func TestAdminShutdownSignaled(t *testing.T) {
	tn := startTestNode(t, Options{ReplSet: "rs0"})
	// Serving first: Stop racing Serve's start is a separate (node.go) matter.
	if err := ping(testCtx(t), doomedClient(t, tn)); err != nil {
		t.Fatal(err)
	}
	tn.ShutdownSignaled(syscall.SIGTERM)
	if err := <-tn.errc; err != nil {
		t.Fatalf("Serve after signal: %v", err)
	}
}

// initiateSet starts n data members of "rs0", initiates them from the first one with the
// given election timeout, and returns once until(nodes) holds.
func initiateSet(t *testing.T, n int, electionTimeoutMS int, until func(nodes []*testNode) bool) []*testNode {
	t.Helper()
	var nodes []*testNode
	var members bson.A
	for i := range n {
		tn := startTestNode(t, Options{ReplSet: "rs0", Parameters: testCommandsOn})
		nodes = append(nodes, tn)
		members = append(members, bson.D{{Key: "_id", Value: i}, {Key: "host", Value: tn.Addr()}})
	}
	cfg := bson.D{{Key: "_id", Value: "rs0"}, {Key: "members", Value: members}, {Key: "settings", Value: bson.D{
		{Key: "electionTimeoutMillis", Value: electionTimeoutMS}, {Key: "heartbeatIntervalMillis", Value: 200}}}}
	if _, err := runAdmin(t, doomedClient(t, nodes[0]), bson.D{{Key: "replSetInitiate", Value: cfg}}); err != nil {
		t.Fatalf("replSetInitiate: %v", err)
	}
	eventually(t, 30*time.Second, "the set to settle", func() bool { return until(nodes) })
	return nodes
}

func memberStateOf(tn *testNode) (memberState, bool) {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return tn.repl.stateLocked(), tn.repl.leader == leaderWritable
}

// doomedClient connects to a node the test will stop; its cleanup does not wait for the
// driver's endSessions to time out against the dead server.
func doomedClient(t *testing.T, tn *testNode) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(tn.uri()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return c
}

func waitServe(t *testing.T, tn *testNode, d time.Duration) {
	t.Helper()
	select {
	case err := <-tn.errc:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(d):
		t.Fatal("node did not stop")
	}
}

// TestAdminShutdownPrimaryNeedsForce: a lone primary has no electable secondary, so the stepdown
// that shutdown attempts first fails and, without force, the node keeps running (spec §6.9).
func TestAdminShutdownPrimaryNeedsForce(t *testing.T) {
	tn := initiateSet(t, 1, 1000, func(nodes []*testNode) bool {
		st, writable := memberStateOf(nodes[0])
		return st == statePrimary && writable
	})[0]
	c := doomedClient(t, tn)
	_, err := runAdmin(t, c, bson.D{{Key: "shutdown", Value: 1}, {Key: "timeoutSecs", Value: 1}})
	wantCode(t, err, 262, "")
	eventually(t, 10*time.Second, "writable again", func() bool {
		h, err := runAdmin(t, c, bson.D{{Key: "hello", Value: 1}})
		return err == nil && boolean(h, "isWritablePrimary")
	})
	err = c.Database("admin").RunCommand(testCtx(t), bson.D{{Key: "shutdown", Value: 1}, {Key: "force", Value: true}, {Key: "timeoutSecs", Value: 1}}).Err()
	if !mongo.IsNetworkError(err) {
		t.Fatalf("forced shutdown should end in a network error, got %v", err)
	}
	waitServe(t, tn, 15*time.Second)
}

// TestAdminShutdownSecondaryQuiesces: a secondary first enters quiesce mode, where hello fails
// with ShutdownInProgress and a topologyVersion so drivers move away, then stops.
func TestAdminShutdownSecondaryQuiesces(t *testing.T) {
	// Two voters and a long election timeout: the initiating node is a SECONDARY that will not
	// run for election during the test, so no replication is needed to get one.
	sec := initiateSet(t, 2, 60000, func(nodes []*testNode) bool {
		st, _ := memberStateOf(nodes[0])
		return st == stateSecondary
	})[0]
	wc := wireClient(t, sec) // opened before quiesce
	c := doomedClient(t, sec)
	go func() {
		_ = c.Database("admin").RunCommand(context.Background(), bson.D{{Key: "shutdown", Value: 1}, {Key: "timeoutSecs", Value: 2}}).Err()
	}()
	var reply bson.Raw
	eventually(t, 10*time.Second, "hello to fail with ShutdownInProgress", func() bool {
		var err error
		reply, err = wc.Command(context.Background(), bson.D{{Key: "hello", Value: 1}, {Key: "$db", Value: "admin"}}, 5*time.Second)
		return err != nil && i32(reply, "code") == 91
	})
	if str(reply, "errmsg") != "The server is in quiesce mode and will shut down" {
		t.Fatalf("quiesce hello: %v", reply)
	}
	if _, err := reply.LookupErr("topologyVersion", "processId"); err != nil {
		t.Fatalf("quiesce error lacks topologyVersion: %v", reply)
	}
	waitServe(t, sec, 15*time.Second)
}
