package mongo

import (
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Command sends any admin command as given and returns the reply; a refusal is a *CommandError
// naming the command and the host.
func TestCommand(t *testing.T) {
	var rec recorder
	s := newWireServer(t, func(cmd string, body bson.Raw) (bson.D, bool) {
		rec.put(cmd, body)
		if cmd == "configureFailPoint" {
			return errReply(2, "BadValue", "unknown fail point"), false
		}
		return bson.D{{Key: "answer", Value: int32(42)}, {Key: "ok", Value: 1.0}}, false
	})
	n := dialTest(t, s.addr())
	raw, err := n.Command(testCtx(t), bson.D{{Key: "fsync", Value: 1}, {Key: "lock", Value: true}})
	if err != nil || raw.Lookup("answer").Int32() != 42 {
		t.Fatalf("fsync: %s %v", raw, err)
	}
	if b := rec.get("fsync"); !b.Lookup("lock").Boolean() || b.Lookup("$db").StringValue() != "admin" {
		t.Errorf("sent %s", b)
	}
	_, err = n.Command(testCtx(t), bson.D{{Key: "configureFailPoint", Value: "nope"}, {Key: "mode", Value: "off"}})
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Code != 2 {
		t.Fatalf("refusal: %v", err)
	}
	if want := "configureFailPoint on " + s.addr(); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
}
