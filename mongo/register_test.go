package mongo

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// directRegisters connects a RegisterClient straight to addr. A not-primary answer marks the
// server unknown until the monitor's next check, so selection gets a few seconds.
func directRegisters(t *testing.T, addr string, selection time.Duration) *RegisterClient {
	t.Helper()
	c, err := connectRegisters("mongodb://"+addr+"/?directConnection=true",
		RegisterOptions{Database: "d", Collection: "r", ServerSelectionTimeout: selection, AppName: "test"},
		readpref.Primary(), writeconcern.Majority())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// TestNotAppliedThroughDriver: the driver's errors for each way a register operation can end,
// from a server that answers as told. Refused before execution or never sent: not applied.
// Sent and then no answer, a hang-up, a write concern error, a stepdown interruption: unknown.
func TestNotAppliedThroughDriver(t *testing.T) {
	var mu sync.Mutex
	replies := map[string]bson.D{}
	hang := map[string]bool{}
	block := make(chan struct{})
	s := newWireServer(t, func(cmd string, _ bson.Raw) (bson.D, bool) {
		mu.Lock()
		r, h := replies[cmd], hang[cmd]
		mu.Unlock()
		if r == nil && !h && cmd != "endSessions" {
			<-block // sent, never answered
			return nil, true
		}
		return r, h
	})
	t.Cleanup(func() { close(block) }) // before the server's cleanup
	set := func(cmd string, r bson.D, h bool) {
		mu.Lock()
		replies[cmd], hang[cmd] = r, h
		mu.Unlock()
	}
	c := directRegisters(t, s.addr(), 5*time.Second)
	short := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(t.Context(), 300*time.Millisecond)
	}

	set("update", errReply(10107, "NotWritablePrimary", "not primary"), false)
	err := c.Write(testCtx(t), "k", 1)
	if err == nil || !NotApplied(err) {
		t.Fatalf("NotWritablePrimary: NotApplied=false (%v)", err)
	}
	set("findAndModify", errReply(13435, "NotPrimaryNoSecondaryOk", "not primary and secondaryOk=false"), false)
	if _, err := c.CAS(testCtx(t), "k", 1, 2); err == nil || !NotApplied(err) {
		t.Fatalf("NotPrimaryNoSecondaryOk: NotApplied=false (%v)", err)
	}
	unknown := map[string]bson.D{
		"stepdown interruption": errReply(11602, "InterruptedDueToReplStateChange", "operation was interrupted"),
		"write concern error": {{Key: "ok", Value: 1.0}, {Key: "n", Value: int32(1)}, {Key: "nModified", Value: int32(1)},
			{Key: "writeConcernError", Value: bson.D{{Key: "code", Value: int32(64)}, {Key: "codeName", Value: "WriteConcernFailed"}, {Key: "errmsg", Value: "waiting for replication timed out"}}}},
		"primary stepped down in the write concern wait": {{Key: "ok", Value: 1.0}, {Key: "n", Value: int32(1)}, {Key: "nModified", Value: int32(1)},
			{Key: "writeConcernError", Value: bson.D{{Key: "code", Value: int32(10107)}, {Key: "codeName", Value: "NotWritablePrimary"}, {Key: "errmsg", Value: "not primary"}}}},
	}
	for what, r := range unknown {
		set("update", r, false)
		err := c.Write(testCtx(t), "k", 1)
		if err == nil || NotApplied(err) {
			t.Fatalf("%s: want an error of unknown outcome, got %v (NotApplied=%v)", what, err, NotApplied(err))
		}
	}
	set("update", nil, false)
	// The errors above marked the server unknown: wait until it is selectable again, so that the
	// short deadline runs out after sending, not in server selection.
	set("find", bson.D{{Key: "ok", Value: 1.0}, {Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: bson.A{}},
		{Key: "id", Value: int64(0)}, {Key: "ns", Value: "d.r"}}}}, false)
	if _, err := c.Read(testCtx(t), "k", ReadMajority); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := short()
	err = c.Write(ctx, "k", 1)
	cancel()
	if err == nil || NotApplied(err) {
		t.Fatalf("no answer before the deadline: want unknown, got %v", err)
	}
	set("update", nil, true)
	if err := c.Write(testCtx(t), "k", 1); err == nil || NotApplied(err) {
		t.Fatalf("hang-up after sending: want unknown, got %v", err)
	}
	c = directRegisters(t, s.addr(), 5*time.Second) // the hang-up marked the server unknown in c's topology

	// A CAS that finds no document with the old value did not swap; with old 0 a duplicate key
	// on the upsert means the key exists with another value.
	set("findAndModify", bson.D{{Key: "ok", Value: 1.0}, {Key: "value", Value: nil},
		{Key: "lastErrorObject", Value: bson.D{{Key: "n", Value: int32(0)}, {Key: "updatedExisting", Value: false}}}}, false)
	if ok, err := c.CAS(testCtx(t), "k", 5, 6); ok || err != nil {
		t.Fatalf("CAS on a mismatched value: swapped=%v err=%v", ok, err)
	}
	set("findAndModify", errReply(11000, "DuplicateKey", "E11000 duplicate key error collection: d.r index: _id_ dup key: { _id: \"k\" }"), false)
	if ok, err := c.CAS(testCtx(t), "k", 0, 6); ok || err != nil {
		t.Fatalf("CAS from 0 on an existing key: swapped=%v err=%v", ok, err)
	}
	set("find", bson.D{{Key: "ok", Value: 1.0}, {Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: bson.A{bson.D{{Key: "_id", Value: "k"}, {Key: "v", Value: int64(9)}}}},
		{Key: "id", Value: int64(0)}, {Key: "ns", Value: "d.r"}}}}, false)
	if v, err := c.Read(testCtx(t), "k", ReadLinearizable); v != 9 || err != nil {
		t.Fatalf("Read = %d, %v; want 9", v, err)
	}
	if _, err := c.Read(testCtx(t), "k", "strong"); err == nil {
		t.Fatal("Read with an unknown level: no error")
	}

	// Nothing listens: the driver never sends anything.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dead := directRegisters(t, addr, 500*time.Millisecond)
	if err := dead.Write(testCtx(t), "k", 1); err == nil || !NotApplied(err) {
		t.Fatalf("closed port: want not applied, got %v", err)
	}
}

func TestNotAppliedTable(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not writable primary", &CommandError{Code: CodeNotWritablePrimary}, true},
		{"legacy not primary", &CommandError{Code: CodeLegacyNotPrimary}, true},
		{"not primary or secondary", &CommandError{Code: CodeNotPrimaryOrSecondary}, true},
		{"same code as a write concern error", &CommandError{Code: CodeNotWritablePrimary, WriteConcern: true}, false},
		{"primary stepped down", &CommandError{Code: CodePrimarySteppedDown}, false},
		{"max time expired", &CommandError{Code: CodeMaxTimeMSExpired}, false},
		{"deadline", context.DeadlineExceeded, false},
		{"server selection", topology.ServerSelectionError{Wrapped: errors.New("no primary")}, true},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{"reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, false},
	} {
		if got := NotApplied(c.err); got != c.want {
			t.Errorf("%s: NotApplied = %v, want %v", c.name, got, c.want)
		}
	}
}
