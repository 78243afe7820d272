package mongo

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	rstopo "github.com/rsguard/rsguard/topology"
)

// A port look tells "something listens" from "nothing listens" and nothing else: a closed
// listener classifies as refused; an idle connection ends when the server side goes away, and
// only then.
func TestPortCheckerReachAndIdle(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback listener: %v", err)
	}
	accepted := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	n, err := Dial(t.Context(), slog.New(slog.DiscardHandler), Options{URI: ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(context.Background())
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	if err := n.Reach(ctx); err != nil {
		t.Fatalf("Reach of a listening port: %v", err)
	}
	idle, err := n.HoldIdle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The driver's monitor connects too: find the server side of the idle connection.
	var server net.Conn
	for server == nil {
		select {
		case c := <-accepted:
			if c.RemoteAddr().String() == idle.(*idleConn).c.LocalAddr().String() {
				server = c
			}
		case <-ctx.Done():
			t.Fatal("the idle connection was never accepted")
		}
	}
	ended := make(chan error, 1)
	go func() { ended <- idle.Wait() }()
	select {
	case err := <-ended:
		t.Fatalf("idle connection ended on its own: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	// The process dies: its socket closes. Wait returns, classified as anything but refused:
	// an ended connection alone is no verdict.
	server.Close()
	select {
	case err := <-ended:
		if k := Classify(err); k == rstopo.FailureRefused {
			t.Errorf("an ended idle connection classifies as %s: %v", k, err)
		}
	case <-ctx.Done():
		t.Fatal("idle connection did not end when the server closed it")
	}
	_ = idle.Close()

	ln.Close()
	err = n.Reach(ctx)
	if k := Classify(err); k != rstopo.FailureRefused {
		t.Errorf("Reach of a closed port: %v classifies as %s, want refused", err, k)
	}
}
