package mongo

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	rstopo "github.com/rsguard/rsguard/topology"
)

// Why FreshAsker exists: when the connections the driver holds stop answering (their requests
// lost, as after a link blip) the pooled hello waits out its deadline, while a hello over a
// connection of its own answers at once. HelloFresh leaves the node's own client alone and
// closes what it opened.
func TestHelloFreshAnswersWhenThePoolIsStuck(t *testing.T) {
	s := newWireServer(t, func(string, bson.Raw) (bson.D, bool) { return nil, false })
	n, err := Dial(t.Context(), slog.New(slog.DiscardHandler), Options{URI: s.addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(context.Background())
	if _, err := n.Hello(testCtx(t)); err != nil {
		t.Fatalf("hello before: %v", err)
	}
	s.muteOpen()

	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	if _, err := n.Hello(ctx); err == nil {
		t.Fatal("pooled hello answered on muted connections: the test does not mute")
	}
	ctx2, cancel2 := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel2()
	start := time.Now()
	if err := n.HelloFresh(ctx2); err != nil {
		t.Fatalf("fresh hello: %v", err)
	}
	if took := time.Since(start); took > 400*time.Millisecond {
		t.Errorf("fresh hello took %v on loopback", took)
	}
}

// No answer: HelloFresh gives up at its deadline (plus the close, bounded by as much) with a
// timeout. A closed port classifies as refused (at the deadline: the driver's server selection
// waits for it; the supervisor's port look is the fast path for that, PortChecker).
func TestHelloFreshTimeoutAndRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts and never answers: a frozen process
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	n, err := Dial(t.Context(), slog.New(slog.DiscardHandler), Options{URI: ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(context.Background())
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = n.HelloFresh(ctx)
	if took := time.Since(start); err == nil || Classify(err) != rstopo.FailureTimeout || took > 800*time.Millisecond {
		t.Errorf("silent server: %v after %v, want a timeout within about 300ms", err, took)
	}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := closed.Addr().String()
	closed.Close()
	m, err := Dial(t.Context(), slog.New(slog.DiscardHandler), Options{URI: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	ctx3, cancel3 := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel3()
	if err := m.HelloFresh(ctx3); Classify(err) != rstopo.FailureRefused {
		t.Errorf("closed port: %v (%s), want refused", err, Classify(err))
	}
}
