package mongoemu

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/wire"
)

// TestQuiesceKeepsListenerOpen: during a secondary's shutdown quiesce mongod keeps accepting
// connections and commands; only hello fails, with ShutdownInProgress (91), mongod's message,
// topologyVersion and the time left (db.cpp shutdownTask enters quiesce before the transport
// layer shuts down; replication_coordinator_impl.cpp enterQuiesceModeIfSecondary and the hello
// quiesce branch, _calculateRemainingQuiesceTimeMillis).
func TestQuiesceKeepsListenerOpen(t *testing.T) {
	sec := initiateSet(t, 2, 60000, func(nodes []*testNode) bool {
		st, _ := memberStateOf(nodes[0])
		return st == stateSecondary
	})[0]
	c := doomedClient(t, sec)
	go func() {
		_ = c.Database("admin").RunCommand(context.Background(), bson.D{{Key: "shutdown", Value: 1}, {Key: "timeoutSecs", Value: 5}}).Err()
	}()
	eventually(t, 10*time.Second, "quiesce to begin", func() bool { return sec.shutdownStarted.Load() })

	// A connection opened now, during quiesce, is accepted.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	nc, err := wire.Dial(ctx, sec.Addr(), 3*time.Second)
	if err != nil {
		t.Fatalf("a new connection during quiesce was refused: %v", err)
	}
	defer nc.Close()
	reply, err := nc.Command(ctx, bson.D{{Key: "hello", Value: 1}, {Key: "$db", Value: "admin"}}, 3*time.Second)
	if err == nil || i32(reply, "code") != 91 {
		t.Fatalf("hello during quiesce: want ShutdownInProgress (91), got %v %v", reply, err)
	}
	if str(reply, "errmsg") != "The server is in quiesce mode and will shut down" {
		t.Fatalf("quiesce hello errmsg: %v", reply)
	}
	if _, err := reply.LookupErr("topologyVersion", "counter"); err != nil {
		t.Fatalf("quiesce error lacks topologyVersion: %v", reply)
	}
	left, ok := reply.Lookup("remainingQuiesceTimeMillis").Int64OK()
	if !ok || left <= 0 || left > 5000 {
		t.Fatalf("remainingQuiesceTimeMillis: want a long in (0, 5000], got %v", reply.Lookup("remainingQuiesceTimeMillis"))
	}
	// Other commands still run on the new connection.
	if reply, err := nc.Command(ctx, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}}, 3*time.Second); err != nil {
		t.Fatalf("ping during quiesce: %v %v", reply, err)
	}
	waitServe(t, sec, 20*time.Second)
}
