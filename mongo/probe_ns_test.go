package mongo

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestWriteProbeNamespace: probe.write_probe_namespace reaches the wire, and a malformed one is
// refused at Dial with the value named.
func TestWriteProbeNamespace(t *testing.T) {
	var rec recorder
	s := newWireServer(t, func(cmd string, body bson.Raw) (bson.D, bool) {
		rec.put(cmd, body)
		return bson.D{{Key: "n", Value: int32(1)}, {Key: "ok", Value: 1.0}}, false
	})
	n, err := Dial(t.Context(), slog.New(slog.DiscardHandler), Options{URI: s.addr(), ConnectTimeout: 500 * time.Millisecond, ProbeNamespace: "ops.rsguard_probe"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(context.Background())
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if _, err := n.WriteProbe(ctx, "sidecar-1"); err != nil {
		t.Fatalf("probe: %v", err)
	}
	b := rec.get("update")
	if b.Lookup("update").StringValue() != "rsguard_probe" || b.Lookup("$db").StringValue() != "ops" {
		t.Errorf("namespace: %s", b)
	}
	_, err = Dial(t.Context(), slog.New(slog.DiscardHandler), Options{URI: s.addr(), ProbeNamespace: "nodot"})
	if err == nil || !strings.Contains(err.Error(), `"nodot"`) {
		t.Errorf("malformed namespace: err = %v", err)
	}
}
