package heartbeat

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rsguard/rsguard/topology"
)

// Two sidecars on real loopback sockets (ephemeral ports, encrypted) exchange views: the path the
// e2e tests and production use, with memberlist's own NetTransport.
func TestRealNetworkTwoNodes(t *testing.T) {
	keys := [][]byte{key(5)}
	start := func(id string, seeds ...string) *Gossip {
		t.Helper()
		g, err := New(testLogger(os.Stderr).With("node", id), prometheus.NewRegistry(), Options{
			NodeID: id, BindAddr: "127.0.0.1", BindPort: 0, Seeds: seeds, Keyring: keys,
			Settle: 200 * time.Millisecond, PushInterval: 100 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = g.Shutdown() })
		if !strings.HasPrefix(g.LocalAddr(), "127.0.0.1:") || strings.HasSuffix(g.LocalAddr(), ":0") {
			t.Fatalf("%s advertises %q, want the bound 127.0.0.1:port", id, g.LocalAddr())
		}
		if err := g.SetLocalView(dataView(id, topology.StateSecondary, 1)); err != nil {
			t.Fatal(err)
		}
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return g
	}
	a := start("a")
	b := start("b", a.LocalAddr())

	deadline := time.Now().Add(20 * time.Second)
	for {
		va, okA := a.Views()["b"]
		vb, okB := b.Views()["a"]
		if okA && okB && va.Alive && vb.Alive && va.Age < time.Second && vb.Age < time.Second && a.Settled() && b.Settled() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no exchange over loopback: a sees %+v, b sees %+v", a.Members(), b.Members())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := b.Leave(time.Second); err != nil {
		t.Fatal(err)
	}
	for status(&node{g: a}, "b") != StatusLeft {
		if time.Now().After(deadline) {
			t.Fatalf("a never saw b leave: %+v", a.Members())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
