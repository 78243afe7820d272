package mongoemu

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A member dropped by a force reconfig goes REMOVED; added back by a later reconfig, it learns
// the new config from a heartbeat reply (it keeps heartbeating its old config's members, as
// mongod does: replication_coordinator_impl.cpp _startHeartbeats_inlock) and rejoins as
// SECONDARY, with no restart (spec §4.5, "removed by reconfig -> REMOVED; re-added -> back").
func TestRemovedMemberRejoinsWhenAddedBack(t *testing.T) {
	ts := startSetPrimary0(t, 3, 0, fastSettings)
	var got struct {
		Config bson.M `bson:"config"`
	}
	if err := ts.admin(0, bson.D{{Key: "replSetGetConfig", Value: 1}}, &got); err != nil {
		t.Fatal(err)
	}
	full := got.Config
	members := full["members"].(bson.A)
	without := bson.M{}
	for k, v := range full {
		without[k] = v
	}
	without["members"] = members[:2]
	ver, _ := numberAsInt64Any(full["version"])
	without["version"] = ver + 1
	if err := ts.admin(0, bson.D{{Key: "replSetReconfig", Value: without}, {Key: "force", Value: true}}, nil); err != nil {
		t.Fatalf("force reconfig without member 2: %v", err)
	}
	removed := func() bool {
		n := ts.nodes[2]
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.repl.stateLocked() == stateRemoved
	}
	eventually(t, 10*time.Second, "member 2 REMOVED", removed)

	if err := ts.admin(0, bson.D{{Key: "replSetGetConfig", Value: 1}}, &got); err != nil {
		t.Fatal(err)
	}
	back := got.Config
	ver, _ = numberAsInt64Any(back["version"])
	back["version"] = ver + 1
	back["members"] = append(back["members"].(bson.A), members[2])
	if err := ts.admin(0, bson.D{{Key: "replSetReconfig", Value: back}}, nil); err != nil {
		t.Fatalf("reconfig adding member 2 back: %v", err)
	}
	eventually(t, 10*time.Second, "member 2 SECONDARY again", func() bool { return ts.state(2) == "SECONDARY" })
}

func numberAsInt64Any(v any) (int64, bool) {
	switch n := v.(type) {
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), true
	}
	return 0, false
}
