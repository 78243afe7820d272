package mongo

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestJournalProbe(t *testing.T) {
	var rec recorder
	reply := bson.D{{Key: "n", Value: int32(1)}, {Key: "nModified", Value: int32(0)}, {Key: "ok", Value: 1.0}}
	s := newWireServer(t, func(cmd string, body bson.Raw) (bson.D, bool) {
		rec.put(cmd, body)
		return reply, false
	})
	n := dialTest(t, s.addr())
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if _, err := n.JournalProbe(ctx, "sidecar-1"); err != nil {
		t.Fatalf("probe: %v", err)
	}
	b := rec.get("update")
	if b.Lookup("update").StringValue() != ProbeCollection || b.Lookup("$db").StringValue() != ProbeDatabase {
		t.Errorf("namespace: %s", b)
	}
	wc := b.Lookup("writeConcern").Document()
	if wc.Lookup("w").AsInt64() != 1 || !wc.Lookup("j").Boolean() {
		t.Errorf("write concern %s, want {w: 1, j: true}", wc)
	}
	if _, err := wc.LookupErr("wtimeout"); err == nil {
		t.Errorf("w:1 needs no wtimeout: %s", wc)
	}
	if ms := b.Lookup("maxTimeMS").AsInt64(); ms <= 0 || ms >= 3000 {
		t.Errorf("maxTimeMS %d must sit inside the 3s deadline", ms)
	}
	ups, _ := b.Lookup("updates").Array().Values()
	if u := ups[0].Document(); u.Lookup("q", "_id").StringValue() != "sidecar-1"+JournalProbeSuffix || !u.Lookup("upsert").Boolean() {
		t.Errorf("update: %s (must not share the w:majority probe's document)", u)
	}
}

// A lock wait cut by maxTimeMS is a timeout of the primary's own write path, not a wtimeout.
func TestJournalProbeMaxTimeIsTimeout(t *testing.T) {
	s := newWireServer(t, func(string, bson.Raw) (bson.D, bool) {
		return errReply(CodeMaxTimeMSExpired, "MaxTimeMSExpired", "operation exceeded time limit"), false
	})
	_, err := dialTest(t, s.addr()).JournalProbe(t.Context(), "sidecar-1")
	if ClassifyProbe(err) != ProbeTimeout {
		t.Fatalf("want timeout, got %q: %v", ClassifyProbe(err), err)
	}
}
