package mongo

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/topology"
)

func errReply(code int32, name, msg string, extra ...bson.E) bson.D {
	d := bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: msg}, {Key: "code", Value: code}, {Key: "codeName", Value: name}}
	return append(d, extra...)
}

// recorder keeps the last body of each command the wire server saw.
type recorder struct {
	mu   sync.Mutex
	seen map[string]bson.Raw
}

func (r *recorder) put(cmd string, body bson.Raw) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]bson.Raw{}
	}
	r.seen[cmd] = append(bson.Raw(nil), body...)
}

func (r *recorder) get(cmd string) bson.Raw {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[cmd]
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Servers before 4.2 closed the connection the stepdown came on: that is success (spec §5.5).
func TestStepDownConnectionClosedIsSuccess(t *testing.T) {
	var rec recorder
	s := newWireServer(t, func(cmd string, body bson.Raw) (bson.D, bool) {
		rec.put(cmd, body)
		return nil, cmd == "replSetStepDown" || cmd == "replSetFreeze"
	})
	n := dialTest(t, s.addr())
	// The same hang-up on another command is an error: only stepdown and shutdown expect it.
	if err := n.Freeze(testCtx(t), 0); err == nil || Classify(err) != topology.FailureOther {
		t.Fatalf("Freeze on a closed connection: %v", err)
	}
	if err := n.StepDown(testCtx(t), 60, 5*time.Second, false); err != nil {
		t.Fatalf("StepDown: %v", err)
	}
	b := rec.get("replSetStepDown")
	if b.Lookup("replSetStepDown").AsInt64() != 60 || b.Lookup("secondaryCatchUpPeriodSecs").AsInt64() != 5 ||
		b.Lookup("force").Boolean() || b.Lookup("$db").StringValue() != "admin" {
		t.Errorf("command sent: %s", b)
	}
}

func TestStepDownExceededTimeLimitStaysAnError(t *testing.T) {
	s := newWireServer(t, func(cmd string, _ bson.Raw) (bson.D, bool) {
		return errReply(262, "ExceededTimeLimit", "No electable secondaries caught up as of 2024-05-29T16:26:45.001+00:00."), false
	})
	n := dialTest(t, s.addr())
	err := n.StepDown(testCtx(t), 60, 0, false)
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Code != CodeExceededTimeLimit || ce.CodeName != "ExceededTimeLimit" {
		t.Fatalf("want ExceededTimeLimit, got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "replSetStepDown on "+s.addr()+": ExceededTimeLimit (262): No electable") {
		t.Errorf("error text: %v", err)
	}
	if Classify(err) != topology.FailureOther {
		t.Errorf("a server reply is not a connection failure: %v", Classify(err))
	}
}

func TestStatusOfRemovedAndUninitializedMembers(t *testing.T) {
	reply := errReply(93, "InvalidReplicaSetConfig", "Our replica set config is invalid or we are not a member of it",
		bson.E{Key: "state", Value: int32(10)}, bson.E{Key: "stateStr", Value: "REMOVED"},
		bson.E{Key: "syncSourceHost", Value: ""}, bson.E{Key: "syncSourceId", Value: int32(-1)})
	s := newWireServer(t, func(string, bson.Raw) (bson.D, bool) { return reply, false })
	n := dialTest(t, s.addr())
	st, err := n.Status(testCtx(t))
	if err != nil || st.MyState != topology.StateRemoved {
		t.Fatalf("removed: %v %v", st.MyState, err)
	}

	reply = errReply(94, "NotYetInitialized", "no replset config has been received")
	s2 := newWireServer(t, func(string, bson.Raw) (bson.D, bool) { return reply, false })
	st, err = dialTest(t, s2.addr()).Status(testCtx(t))
	if err != nil || st.MyState != topology.StateStartup {
		t.Fatalf("uninitialized: %v %v", st.MyState, err)
	}

	s3 := newWireServer(t, func(string, bson.Raw) (bson.D, bool) {
		return errReply(76, "NoReplicationEnabled", "not running with --replSet"), false
	})
	if _, err := dialTest(t, s3.addr()).Status(testCtx(t)); !HasCode(err, CodeNoReplicationEnabled) {
		t.Fatalf("standalone: want NoReplicationEnabled, got %v", err)
	}
}

func TestWriteProbe(t *testing.T) {
	var rec recorder
	var mu sync.Mutex
	reply := bson.D{{Key: "n", Value: int32(1)}, {Key: "nModified", Value: int32(0)}, {Key: "ok", Value: 1.0}}
	s := newWireServer(t, func(cmd string, body bson.Raw) (bson.D, bool) {
		rec.put(cmd, body)
		mu.Lock()
		defer mu.Unlock()
		return reply, false
	})
	n := dialTest(t, s.addr())
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if _, err := n.WriteProbe(ctx, "sidecar-1"); err != nil {
		t.Fatalf("probe: %v", err)
	}
	b := rec.get("update")
	if b.Lookup("update").StringValue() != ProbeCollection || b.Lookup("$db").StringValue() != ProbeDatabase {
		t.Errorf("namespace: %s", b)
	}
	if b.Lookup("writeConcern", "w").StringValue() != "majority" {
		t.Errorf("write concern: %s", b.Lookup("writeConcern"))
	}
	if wt := b.Lookup("writeConcern", "wtimeout").AsInt64(); wt <= 0 || wt >= 3000 {
		t.Errorf("wtimeout %d must sit inside the 3s deadline", wt)
	}
	ups, _ := b.Lookup("updates").Array().Values()
	u := ups[0].Document()
	if u.Lookup("q", "_id").StringValue() != "sidecar-1" || !u.Lookup("upsert").Boolean() ||
		u.Lookup("u", "seq").AsInt64() != 1 || u.Lookup("u", "at").Type != bson.TypeDateTime {
		t.Errorf("update: %s", u)
	}

	set := func(d bson.D) { mu.Lock(); reply = d; mu.Unlock() }
	set(bson.D{{Key: "n", Value: int32(1)}, {Key: "ok", Value: 1.0}, {Key: "writeConcernError", Value: bson.D{
		{Key: "code", Value: int32(64)}, {Key: "codeName", Value: "WriteConcernFailed"},
		{Key: "errmsg", Value: "waiting for replication timed out"},
		{Key: "errInfo", Value: bson.D{{Key: "wtimeout", Value: true}}}}}})
	_, err := n.WriteProbe(t.Context(), "sidecar-1")
	if ClassifyProbe(err) != ProbeWriteConcern || !HasCode(err, CodeWriteConcernFailed) {
		t.Errorf("wtimeout: %q %v", ClassifyProbe(err), err)
	}
	if ups, _ := rec.get("update").Lookup("updates").Array().Values(); ups[0].Document().Lookup("u", "seq").AsInt64() != 2 {
		t.Error("seq does not advance")
	}

	set(errReply(10107, "NotWritablePrimary", "not primary"))
	if _, err := n.WriteProbe(t.Context(), "sidecar-1"); ClassifyProbe(err) != ProbeNotPrimary {
		t.Errorf("not primary: %q %v", ClassifyProbe(err), err)
	}
}

func TestWriteProbeTimeout(t *testing.T) {
	stop := make(chan struct{})
	s := newWireServer(t, func(cmd string, _ bson.Raw) (bson.D, bool) {
		<-stop // a primary whose disk hangs: the write never returns
		return nil, true
	})
	t.Cleanup(func() { close(stop) })
	n := dialTest(t, s.addr())
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	lat, err := n.WriteProbe(ctx, "sidecar-1")
	if ClassifyProbe(err) != ProbeTimeout || Classify(err) != topology.FailureTimeout {
		t.Fatalf("want timeout, got %q / %q: %v", ClassifyProbe(err), Classify(err), err)
	}
	if lat <= 0 {
		t.Errorf("latency of a failed probe: %v", lat)
	}
}

func TestReconfigSendsPatchedRawWithMaxTime(t *testing.T) {
	var rec recorder
	s := newWireServer(t, func(cmd string, body bson.Raw) (bson.D, bool) {
		rec.put(cmd, body)
		return nil, false
	})
	n := dialTest(t, s.addr())
	cfg := DecodeConfig(fixture(t, "config.json")).Clone()
	cfg.Members[1].Votes = 0
	cfg.Members[1].Priority = 0
	if err := n.Reconfig(testCtx(t), cfg, true); err != nil {
		t.Fatal(err)
	}
	b := rec.get("replSetReconfig")
	sent := DecodeConfig(b.Lookup("replSetReconfig").Document())
	if sent.Version != 6 || !b.Lookup("force").Boolean() {
		t.Errorf("sent version %d force %v", sent.Version, b.Lookup("force"))
	}
	if m, _ := sent.Member("n2:27017"); m.Votes != 0 || m.Priority != 0 {
		t.Errorf("edit lost: %+v", m)
	}
	if _, err := b.LookupErr("replSetReconfig", "settings", "getLastErrorModes"); err != nil {
		t.Error("unknown settings lost")
	}
	if ms := b.Lookup("maxTimeMS").AsInt64(); ms <= 0 || ms > 10000 {
		t.Errorf("maxTimeMS %d", ms)
	}
}

func TestShutdownAndOtherCommands(t *testing.T) {
	var rec recorder
	cfgDoc := fixture(t, "config.json").Lookup("config").Document()
	s := newWireServer(t, func(cmd string, body bson.Raw) (bson.D, bool) {
		rec.put(cmd, body)
		switch cmd {
		case "shutdown":
			return nil, true // a successful shutdown never replies
		case "replSetStepUp":
			return errReply(125, "CommandFailed", "Election failed."), false
		case "replSetGetConfig":
			return bson.D{{Key: "config", Value: cfgDoc}, {Key: "ok", Value: 1.0}}, false
		}
		return nil, false
	})
	n := dialTest(t, s.addr())
	ctx := testCtx(t)
	h, err := n.Hello(ctx)
	if err != nil || !h.IsWritablePrimary || h.MaxWireVersion != 21 {
		t.Errorf("hello %+v %v", h, err)
	}
	if err := n.Freeze(ctx, 30); err != nil || rec.get("replSetFreeze").Lookup("replSetFreeze").AsInt64() != 30 {
		t.Errorf("freeze: %v", err)
	}
	err = n.StepUp(ctx, true)
	if !HasCode(err, CodeCommandFailed) || !rec.get("replSetStepUp").Lookup("skipDryRun").Boolean() {
		t.Errorf("stepUp: %v", err)
	}
	if c, err := n.Config(ctx); err != nil || c.Version != 5 || len(c.Members) != 4 {
		t.Errorf("config: %+v %v", c, err)
	}
	if err := n.Shutdown(ctx, true, 10*time.Second); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	b := rec.get("shutdown")
	if !b.Lookup("force").Boolean() || b.Lookup("timeoutSecs").AsInt64() != 10 {
		t.Errorf("shutdown sent %s", b)
	}
	if n.Addr() != s.addr() {
		t.Errorf("addr %q", n.Addr())
	}
}

// replSetAbortPrimaryCatchUp on a node whose catch-up already ended answers IllegalOperation
// (replication_coordinator_impl.cpp abortCatchupIfNeeded): the goal is met, so it is success;
// any other refusal (not primary...) stays an error.
func TestAbortCatchUpAlreadyOverIsSuccess(t *testing.T) {
	var rec recorder
	var code atomic.Int32
	code.Store(20)
	s := newWireServer(t, func(cmd string, body bson.Raw) (bson.D, bool) {
		rec.put(cmd, body)
		if code.Load() == 20 {
			return errReply(20, "IllegalOperation", "The node is not in catch-up mode."), false
		}
		return errReply(10107, "NotWritablePrimary", "not primary"), false
	})
	n := dialTest(t, s.addr())
	if err := n.AbortCatchUp(testCtx(t)); err != nil {
		t.Fatalf("AbortCatchUp after catch-up ended: %v", err)
	}
	if b := rec.get("replSetAbortPrimaryCatchUp"); b.Lookup("$db").StringValue() != "admin" {
		t.Errorf("command sent: %s", b)
	}
	code.Store(10107)
	if err := n.AbortCatchUp(testCtx(t)); ErrorCode(err) != 10107 {
		t.Fatalf("AbortCatchUp on a secondary: %v, want NotWritablePrimary", err)
	}
}
