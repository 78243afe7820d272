package heartbeat

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rsguard/rsguard/heartbeat/memnet"
)

// A sidecar whose seeds are all down starts fine, keeps retrying, never settles while alone, and
// joins and settles as soon as a seed appears.
func TestUnreachableSeedsRetryUntilTheyAppear(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := memnet.NewNetwork()
		seeds := []string{addrOf(0), addrOf(1)}
		tr, err := nw.NewTransport(addrOf(0))
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		a, err := New(testLogger(t.Output()), reg, Options{NodeID: "s1", Seeds: seeds, Transport: tr, Keyring: [][]byte{testKey}})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Shutdown()
		if err := a.Start(context.Background()); err != nil {
			t.Fatalf("Start with unreachable seeds: %v", err)
		}
		if err := a.Start(context.Background()); err == nil {
			t.Error("second Start accepted")
		}
		time.Sleep(4 * DefaultSettle)
		if a.Settled() {
			t.Error("a lone sidecar with seeds settled")
		}
		f1, _ := metricValue(t, reg, "rsguard_heartbeat_seed_join_failures_total")
		time.Sleep(10 * time.Second)
		f2, _ := metricValue(t, reg, "rsguard_heartbeat_seed_join_failures_total")
		if f1 == 0 || f2 <= f1 {
			t.Errorf("join failures %v then %v: not retrying", f1, f2)
		}
		if f2 > 2*15 { // 22s at >= 1s per attempt (backing off to 5s)
			t.Errorf("%v join failures in 22s: no backoff", f2)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := a.WaitSettled(ctx); err == nil {
			t.Error("WaitSettled returned nil while alone")
		}
		cancel()

		// The seed comes up (with no seeds of its own, like a first node) and is joined.
		tr2, err := nw.NewTransport(addrOf(1))
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(testLogger(t.Output()), nil, Options{NodeID: "s2", Transport: tr2, Keyring: [][]byte{testKey}})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Shutdown()
		if err := b.SetLocalView(dataView("s2", 2, 1)); err != nil {
			t.Fatal(err)
		}
		if err := b.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		took := waitFor(t, 10*time.Second, "s1 settled", a.Settled)
		t.Logf("settled %v after the seed appeared", took)
		if err := a.WaitSettled(context.Background()); err != nil {
			t.Fatal(err)
		}
		if v, ok := a.Views()["s2"]; !ok || !v.Alive {
			t.Errorf("s1 views after join: %+v", a.Views())
		}
		if _, ok := a.Views()["s1"]; ok {
			t.Error("s1 reports a view of itself before SetLocalView")
		}
		if got, _ := metricValue(t, reg, "rsguard_heartbeat_settled"); got != 1 {
			t.Errorf("settled gauge = %v", got)
		}
		a.Shutdown()
		b.Shutdown()
		time.Sleep(10 * time.Second)
	})
}

// Settled needs the settle period even when the joins succeed at once, and never reverts.
func TestSettleWaitsForThePeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, func(o *Options) { o.Settle = 5 * time.Second })
		defer c.stop()
		waitFor(t, 5*time.Second, "converged", func() bool { return c.allFresh(time.Second) })
		for _, nd := range c.nodes {
			if nd.g.Settled() {
				t.Errorf("%s settled before the settle period", nd.id)
			}
		}
		time.Sleep(5 * time.Second)
		for _, nd := range c.nodes {
			if !nd.g.Settled() {
				t.Errorf("%s not settled after the settle period", nd.id)
			}
		}
		c.net.Kill(c.nodes[0].addr)
		time.Sleep(10 * time.Second)
		if !c.nodes[0].g.Settled() {
			t.Error("Settled reverted on isolation")
		}
	})
}

// A sidecar with no seeds is a cluster of one by configuration: it settles on the period alone.
func TestNoSeedsSettlesAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, err := memnet.NewNetwork().NewTransport("127.0.0.9:7946")
		if err != nil {
			t.Fatal(err)
		}
		g, err := New(nil, nil, Options{NodeID: "solo", Seeds: []string{"127.0.0.9:7946"}, Transport: tr, Insecure: true})
		if err != nil {
			t.Fatal(err)
		}
		if g.Settled() {
			t.Error("settled before Start")
		}
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := g.WaitSettled(context.Background()); err != nil {
			t.Fatal(err)
		}
		if g.LocalAddr() != "127.0.0.9:7946" {
			t.Errorf("LocalAddr = %q", g.LocalAddr())
		}
		g.Shutdown()
		if err := g.Start(context.Background()); err == nil {
			t.Error("Start after Shutdown accepted")
		}
		time.Sleep(5 * time.Second)
	})
}
