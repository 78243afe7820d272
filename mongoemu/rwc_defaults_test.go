package mongoemu

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// TestImplicitDefaultWCFormula is repl_set_config.cpp isImplicitDefaultWriteConcernMajority:
// majority without voting arbiters, or when the data-bearing voters strictly outnumber the
// voting majority.
func TestImplicitDefaultWCFormula(t *testing.T) {
	mk := func(data, arbiters, nonVoting int) *replConfig {
		c := &replConfig{}
		for range data {
			c.members = append(c.members, memberConfig{votes: 1, priority: 1})
		}
		for range arbiters {
			c.members = append(c.members, memberConfig{votes: 1, arbiterOnly: true})
		}
		for range nonVoting {
			c.members = append(c.members, memberConfig{votes: 0})
		}
		return c
	}
	for _, tc := range []struct {
		name                      string
		data, arbiters, nonVoting int
		majority                  bool
	}{
		{"P", 1, 0, 0, true},
		{"PSS", 3, 0, 0, true},
		{"PSA", 2, 1, 0, false},
		{"PSSA", 3, 1, 0, false},
		{"PSSSA", 4, 1, 0, true},
		{"PSSAA", 3, 2, 0, false},
		{"PSA+nonvoting", 2, 1, 2, false},
	} {
		if got := mk(tc.data, tc.arbiters, tc.nonVoting).implicitDefaultWCMajority(); got != tc.majority {
			t.Errorf("%s: implicit default majority = %v, want %v", tc.name, got, tc.majority)
		}
	}
}

// lagSecondaries turns rsSyncApplyStop on every node but p.
func lagSecondaries(t *testing.T, ts *testSet, p int, on bool) {
	t.Helper()
	mode := "off"
	if on {
		mode = "alwaysOn"
	}
	for i := range ts.nodes {
		if i != p {
			if err := ts.admin(i, bson.D{{Key: "configureFailPoint", Value: "rsSyncApplyStop"}, {Key: "mode", Value: mode}}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func wceOf(err error) (code int, errInfo bson.Raw) {
	var we mongo.WriteException
	if errors.As(err, &we) && we.WriteConcernError != nil {
		return we.WriteConcernError.Code, we.WriteConcernError.Details
	}
	return 0, nil
}

// TestDefaultWriteConcernMajority: on a PSS set a write that names no writeConcern waits for
// the implicit {w: "majority"} (write_concern.cpp extractWriteConcern; getDefault in
// read_write_concern_defaults.cpp), so with the secondaries not applying it does not return
// before maxTimeMS, while an explicit w:1 write does. A CWWC set by setDefaultRWConcern replaces
// the implicit default, replicates through config.settings, and shows in errInfo's provenance.
func TestDefaultWriteConcernMajority(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	coll := ts.clients[p].Database("t").Collection("c")
	ctx := context.Background()

	var got bson.Raw
	if err := ts.admin(p, bson.D{{Key: "getDefaultRWConcern", Value: 1}}, &got); err != nil {
		t.Fatal(err)
	}
	if w := got.Lookup("defaultWriteConcern", "w").StringValue(); w != "majority" || str(got, "defaultWriteConcernSource") != "implicit" ||
		str(got, "defaultReadConcern", "level") != "local" || str(got, "defaultReadConcernSource") != "implicit" {
		t.Fatalf("getDefaultRWConcern on PSS: %v", got)
	}
	if _, err := got.LookupErr("updateOpTime"); err == nil {
		t.Fatalf("nothing was set, yet updateOpTime is there: %v", got)
	}
	if _, ok := got.Lookup("localUpdateWallClockTime").DateTimeOK(); !ok {
		t.Fatalf("no localUpdateWallClockTime: %v", got)
	}

	lagSecondaries(t, ts, p, true)
	start := time.Now()
	// No writeConcern: the implicit default. maxTimeMS bounds the wait.
	cmdErr := ts.clients[p].Database("t").RunCommand(ctx, bson.D{{Key: "insert", Value: "c"},
		{Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: 2}}}}, {Key: "maxTimeMS", Value: 1500}}).Err()
	var ce mongo.CommandError
	if !errors.As(cmdErr, &ce) || ce.Code != 50 {
		var we mongo.WriteException
		if !errors.As(cmdErr, &we) || we.WriteConcernError == nil || we.WriteConcernError.Code != 50 {
			t.Fatalf("a default-WC write with the secondaries stopped: want writeConcernError MaxTimeMSExpired (50), got %v", cmdErr)
		}
	}
	if time.Since(start) < time.Second {
		t.Fatalf("the default-WC write returned after %v: it did not wait for majority", time.Since(start))
	}
	w1 := time.Now()
	if _, err := ts.clients[p].Database("t").Collection("c", options.Collection().SetWriteConcern(writeconcern.W1())).InsertOne(ctx, bson.D{{Key: "_id", Value: 3}}); err != nil {
		t.Fatalf("w:1 insert: %v", err)
	}
	if d := time.Since(w1); d > time.Second {
		t.Fatalf("an explicit w:1 write took %v with the secondaries stopped", d)
	}

	// A CWWC replaces the implicit default; its wtimeout applies and errInfo says customDefault.
	if err := ts.admin(p, bson.D{{Key: "setDefaultRWConcern", Value: 1},
		{Key: "defaultWriteConcern", Value: bson.D{{Key: "w", Value: "majority"}, {Key: "wtimeout", Value: 300}}},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: 1}}}}, &got); err != nil {
		t.Fatal(err)
	}
	if str(got, "defaultWriteConcernSource") != "global" || i32(got, "defaultWriteConcern", "wtimeout") != 300 {
		t.Fatalf("setDefaultRWConcern reply: %v", got)
	}
	if _, _, ok := got.Lookup("updateOpTime").TimestampOK(); !ok {
		t.Fatalf("setDefaultRWConcern reply lacks updateOpTime: %v", got)
	}
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 4}})
	code, info := wceOf(err)
	if code != 64 || info.Lookup("writeConcern", "provenance").StringValue() != "customDefault" {
		t.Fatalf("CWWC write with the secondaries stopped: want writeConcernError 64 with provenance customDefault, got %v (%v)", err, info)
	}
	lagSecondaries(t, ts, p, false)

	// The defaults document replicates: a secondary reports the same CWWC.
	s := (p + 1) % 3
	eventually(t, 20*time.Second, "the CWWC on a secondary", func() bool {
		var sg bson.Raw
		return ts.admin(s, bson.D{{Key: "getDefaultRWConcern", Value: 1}}, &sg) == nil && str(sg, "defaultWriteConcernSource") == "global"
	})
}

// TestSetDefaultRWConcernValidation: mongod's refusals (checkSuitabilityAsDefault,
// generateNewCWRWCToBeSavedOnDisk, the IDL parser, validateWriteConcern).
func TestSetDefaultRWConcernValidation(t *testing.T) {
	ts := startTestSet(t, 2, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	set := func(fields ...bson.E) error {
		return ts.admin(p, append(bson.D{{Key: "setDefaultRWConcern", Value: 1}}, fields...), nil)
	}
	wc := func(d bson.D) bson.E { return bson.E{Key: "defaultWriteConcern", Value: d} }
	for _, tc := range []struct {
		name string
		err  error
		code int32
	}{
		{"nothing", set(), 2},
		{"w:0", set(wc(bson.D{{Key: "w", Value: 0}})), 2},
		{"provenance", set(wc(bson.D{{Key: "w", Value: 1}, {Key: "provenance", Value: "clientSupplied"}})), 2},
		{"unknown field", set(bson.E{Key: "bogus", Value: 1}), 40415},
		{"w > data-bearing", set(wc(bson.D{{Key: "w", Value: 5}})), 100},
		{"unknown tag mode", set(wc(bson.D{{Key: "w", Value: "dc"}})), 79},
		{"snapshot default read concern", set(bson.E{Key: "defaultReadConcern", Value: bson.D{{Key: "level", Value: "snapshot"}}}), 2},
	} {
		wantCode(t, tc.err, tc.code, "")
		_ = tc.name
	}
	if err := set(wc(bson.D{{Key: "w", Value: 1}})); err != nil {
		t.Fatal(err)
	}
	wantCode(t, set(wc(bson.D{})), 20, "The global default write concern cannot be unset once it is set.")
	s := 1 - p
	wantCode(t, ts.admin(s, bson.D{{Key: "setDefaultRWConcern", Value: 1}, {Key: "defaultWriteConcern", Value: bson.D{{Key: "w", Value: 1}}}}, nil), 10107, "")

	sa := startTestNode(t, Options{})
	_, err := runAdmin(t, sa.client(t), bson.D{{Key: "getDefaultRWConcern", Value: 1}})
	wantCode(t, err, 51300, "'getDefaultRWConcern' is not supported on standalone nodes.")
}

// TestReconfigRefusesImplicitDefaultWCChange: adding an arbiter to a PS set would turn the
// implicit default from majority into w:1; mongod refuses that reconfig, forced or not, until a
// CWWC is set (jstests/replsets/reconfig_fails_if_changes_implicit_default_wc.js).
func TestReconfigRefusesImplicitDefaultWCChange(t *testing.T) {
	ts := startTestSet(t, 2, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	arb := startTestNode(t, Options{ReplSet: "rs0"})
	var cfgReply struct {
		Config bson.M `bson:"config"`
	}
	if err := ts.admin(p, bson.D{{Key: "replSetGetConfig", Value: 1}}, &cfgReply); err != nil {
		t.Fatal(err)
	}
	cfg := cfgReply.Config
	cfg["version"] = toInt64(cfg["version"]) + 1
	cfg["members"] = append(cfg["members"].(bson.A), bson.M{"_id": 5, "host": arb.Addr(), "arbiterOnly": true})
	const msg = "Reconfig attempted to install a config that would change the implicit default write concern. Use the setDefaultRWConcern command to set a cluster-wide write concern and try the reconfig again."
	wantCode(t, ts.admin(p, bson.D{{Key: "replSetReconfig", Value: cfg}}, nil), 103, msg)
	wantCode(t, ts.admin(p, bson.D{{Key: "replSetReconfig", Value: cfg}, {Key: "force", Value: true}}, nil), 103, msg)
	if err := ts.admin(p, bson.D{{Key: "setDefaultRWConcern", Value: 1}, {Key: "defaultWriteConcern", Value: bson.D{{Key: "w", Value: 1}}},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: "majority"}}}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ts.admin(p, bson.D{{Key: "replSetReconfig", Value: cfg}}, nil); err != nil {
		t.Fatalf("reconfig after setting a CWWC: %v", err)
	}
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	}
	panic(fmt.Sprintf("not an integer: %T", v))
}
