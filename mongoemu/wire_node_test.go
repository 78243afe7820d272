package mongoemu

import (
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rsguard/rsguard/mongoemu/wire"
)

// Hostile frames must neither crash nor wedge the node: an over-limit length, a truncated body
// and garbage each cost only their own connection.
func TestHostileFramesCostOnlyTheirConnection(t *testing.T) {
	tn := startTestNode(t, Options{})
	frames := map[string][]byte{}
	huge := make([]byte, 16)
	binary.LittleEndian.PutUint32(huge, 48000001)
	binary.LittleEndian.PutUint32(huge[12:], uint32(wire.OpMsg))
	frames["over 48 MB"] = huge
	ping, _ := bson.Marshal(bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
	full := wire.AppendMsg(nil, 1, 0, 0, ping)
	frames["truncated"] = full[:len(full)-5]
	bad := append([]byte(nil), full...)
	bad[20] = 7 // unknown section kind
	frames["unknown section"] = bad
	for name, frame := range frames {
		c, err := net.Dial("tcp", tn.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(frame); err != nil {
			t.Fatalf("%s: write: %v", name, err)
		}
		if name == "truncated" {
			_ = c.(*net.TCPConn).CloseWrite()
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 1<<16)
		for {
			if _, err := c.Read(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("%s: the node kept the connection open instead of closing it", name)
				}
				break // closed, as mongod does
			}
		}
		_ = c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tn.client(t).Ping(ctx, nil); err != nil {
		t.Fatalf("node no longer serves after hostile frames: %v", err)
	}
}

// Streaming monitoring must wait on topologyVersion, not spin: over a quiet second the driver's
// awaitable hello is answered at most a few times (spec §1.7).
func TestAwaitableHelloDoesNotHotLoop(t *testing.T) {
	tn := startTestNode(t, Options{})
	started := make(chan string, 1000)
	mon := &event.ServerMonitor{ServerHeartbeatStarted: func(*event.ServerHeartbeatStartedEvent) {
		select {
		case started <- "hb":
		default:
		}
	}}
	c := tn.client(t, options.Client().SetServerMonitor(mon).SetHeartbeatInterval(500*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for len(started) > 0 {
		<-started
	}
	// This is an observation window, not a wait for a condition: count what happens in it.
	<-time.After(2 * time.Second)
	// 2 s at a 500 ms await: about 4 streamed replies; a hot loop would produce thousands.
	if n := len(started); n > 12 {
		t.Fatalf("%d heartbeats in 2 s: the awaitable hello is not waiting", n)
	}
}
