package heartbeat

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/rsguard/rsguard/heartbeat/memnet"
	"github.com/rsguard/rsguard/topology"
)

// testLogger is silent unless RSGUARD_TEST_LOG names a level (debug, info, warn, error).
func testLogger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("RSGUARD_TEST_LOG"))); err != nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// node is one sidecar of a memnet cluster.
type node struct {
	id, addr string
	g        *Gossip
	reg      *prometheus.Registry
}

// cluster is n sidecars on one memnet Network, s1 at 127.0.0.2:7946 and so on, every one seeded
// with every address (as rsguard's config does).
type cluster struct {
	t     *testing.T
	net   *memnet.Network
	nodes []*node
	seeds []string
	tweak func(*Options)
}

func addrOf(i int) string { return fmt.Sprintf("127.0.0.%d:7946", i+2) }

func newCluster(t *testing.T, n int, tweak func(*Options)) *cluster {
	t.Helper()
	c := &cluster{t: t, net: memnet.NewNetwork(), tweak: tweak}
	for i := range n {
		c.seeds = append(c.seeds, addrOf(i))
	}
	for i := range n {
		c.nodes = append(c.nodes, c.add(fmt.Sprintf("s%d", i+1), addrOf(i)))
	}
	return c
}

// add creates and starts one sidecar with a data view of its own.
func (c *cluster) add(id, addr string) *node {
	c.t.Helper()
	tr, err := c.net.NewTransport(addr)
	if err != nil {
		c.t.Fatal(err)
	}
	// Authenticated like production (a config needs a keyring unless insecure); tweak may change it.
	opts := Options{NodeID: id, BindAddr: strings.Split(addr, ":")[0], BindPort: 7946, Seeds: c.seeds, Transport: tr,
		Keyring: [][]byte{testKey}}
	if c.tweak != nil {
		c.tweak(&opts)
	}
	reg := prometheus.NewRegistry()
	g, err := New(testLogger(c.t.Output()).With("node", id), reg, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := g.SetLocalView(dataView(id, topology.StateSecondary, 1)); err != nil {
		c.t.Fatal(err)
	}
	if err := g.Start(context.Background()); err != nil {
		c.t.Fatal(err)
	}
	return &node{id: id, addr: addr, g: g, reg: reg}
}

// stop shuts every sidecar down, then lets memberlist's in-flight probes and stream handlers run
// out their timeouts: fake time stops once a synctest bubble's main goroutine returns, so they must
// finish before it does.
func (c *cluster) stop() {
	for _, n := range c.nodes {
		if err := n.g.Shutdown(); err != nil {
			c.t.Errorf("%s: shutdown: %v", n.id, err)
		}
	}
	time.Sleep(10 * time.Second)
}

func (c *cluster) node(id string) *node {
	for _, n := range c.nodes {
		if n.id == id {
			return n
		}
	}
	c.t.Fatalf("no node %s", id)
	return nil
}

func dataView(id string, st topology.MemberState, term int64) topology.MemberView {
	return topology.MemberView{
		SidecarID: id, Mode: topology.ModeData, ObservedAt: time.Now(),
		Local: topology.LocalView{Host: id + ".db:27017", Reachable: true, State: st, Term: term,
			OpTime: topology.MakeOpTime(uint32(time.Now().Unix()), 1, term), Votes: 1, Priority: 1},
	}
}

// waitFor polls cond every 50ms (fake time under synctest) and returns how long it took.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// fresh reports whether viewer holds a view of peer younger than maxAge from an alive member.
func fresh(viewer *node, peer string, maxAge time.Duration) bool {
	v, ok := viewer.g.Views()[peer]
	return ok && v.Alive && v.Age <= maxAge
}

// allFresh reports whether every node in among holds a fresh view of every other.
func (c *cluster) allFresh(maxAge time.Duration, among ...*node) bool {
	if len(among) == 0 {
		among = c.nodes
	}
	for _, a := range among {
		for _, b := range among {
			if a != b && !fresh(a, b.id, maxAge) {
				return false
			}
		}
	}
	return true
}

func status(viewer *node, id string) MemberStatus {
	for _, m := range viewer.g.Members() {
		if m.ID == id {
			return m.Status
		}
	}
	return 0
}

// metricValue sums a metric's samples whose labels include the given pairs.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			if !hasLabels(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			}
		}
		return sum, true
	}
	return 0, false
}

func hasLabels(m *dto.Metric, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == kv[i] && l.GetValue() == kv[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
