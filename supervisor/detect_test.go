package supervisor

import (
	"context"
	"io"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/heartbeat/memnet"
	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/mongo/mongotest"
	"github.com/rsguard/rsguard/topology"
)

// ports fakes what mongo.PortChecker sees: per observer and host, whether something listens, and
// the idle connections held, which a test can end (a blip) or have ended by a crash.
type ports struct {
	mu      sync.Mutex
	refused map[[2]string]bool // {sidecar, host}: nothing listens, as that sidecar sees it
	conns   map[[2]string][]*fakeIdle
	reaches map[[2]string]int
	holds   map[[2]string]int
	// dying counts the looks that still connect after a crash: the listener closes after the
	// idle connection (file-descriptor order), so the first look may reach its dying queue.
	dying map[[2]string]int
	// w, when set, gives the nodes a topologyVersion (the world's term) and an awaitable hello.
	w *world
}

func newPorts() *ports {
	return &ports{refused: map[[2]string]bool{}, conns: map[[2]string][]*fakeIdle{},
		reaches: map[[2]string]int{}, holds: map[[2]string]int{}, dying: map[[2]string]int{}}
}

type fakeIdle struct {
	once sync.Once
	done chan struct{}
}

func (c *fakeIdle) Wait() error  { <-c.done; return io.EOF }
func (c *fakeIdle) Close() error { c.once.Do(func() { close(c.done) }); return nil }

// portNode is a world fake with a port.
type portNode struct {
	mongo.Node
	p             *ports
	sidecar, host string
}

func (n portNode) Reach(context.Context) error {
	n.p.mu.Lock()
	defer n.p.mu.Unlock()
	k := [2]string{n.sidecar, n.host}
	n.p.reaches[k]++
	if n.p.dying[k] > 0 {
		n.p.dying[k]--
		return nil
	}
	if n.p.refused[k] {
		return mongotest.Refused(n.host)
	}
	return nil
}

func (n portNode) HoldIdle(context.Context) (mongo.IdleConn, error) {
	n.p.mu.Lock()
	defer n.p.mu.Unlock()
	k := [2]string{n.sidecar, n.host}
	if n.p.refused[k] {
		return nil, mongotest.Refused(n.host)
	}
	n.p.holds[k]++
	c := &fakeIdle{done: make(chan struct{})}
	n.p.conns[k] = append(n.p.conns[k], c)
	return c, nil
}

// drop ends every idle connection sidecar holds to host; refused says whether the port is then
// closed (a crash) or still listening (a blip).
func (p *ports) drop(sidecar, host string, refused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := [2]string{sidecar, host}
	p.refused[k] = refused
	for _, c := range p.conns[k] {
		_ = c.Close()
	}
	p.conns[k] = nil
}

func (p *ports) count(m map[[2]string]int, sidecar, host string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return m[[2]string{sidecar, host}]
}

// newPortCluster is newCluster with every Node given a port from p.
func newPortCluster(t *testing.T, w *world, p *ports, extra string) *cluster {
	t.Helper()
	c := &cluster{t: t, w: w, net: memnet.NewNetwork(), dir: t.TempDir(), ms: threeData,
		sups: map[string]*Supervisor{}, regs: map[string]*prometheus.Registry{},
		cancel: map[string]context.CancelFunc{}, done: map[string]chan error{},
		wrap: func(sidecar, host string, n mongo.Node) mongo.Node {
			return portNode{Node: n, p: p, sidecar: sidecar, host: host}
		}}
	for i := range c.ms {
		c.add(i, extra)
	}
	return c
}

// slowTicks makes the regular probes too slow to explain a reaction within a few seconds.
const slowTicks = "probe:\n  interval: 20s\n  timeout: 800ms\n  write_probe_interval: 20s\n  sick_after: 20s\n  view_max_age: 60s\n"

// assertQuiet holds for d and fails on any step-up or on a sidecar that stops seeing h1 healthy.
func assertQuiet(t *testing.T, c *cluster, w *world, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		for id := range c.sups {
			if a := c.status(id).Analysis; a.Kind != election.Healthy || a.Primary != h1 {
				t.Fatalf("%s: analysis %s (primary %s), want healthy h1: %v", id, a.Kind, a.Primary, a.Evidence)
			}
		}
	}
	for _, h := range []string{h2, h3} {
		if n := w.calls(h, mongotest.OpStepUp); n != 0 {
			t.Errorf("replSetStepUp sent to %s %d times", h, n)
		}
	}
}

// The idle connection of the primary's sidecar ends while mongod still listens (a network blip,
// a listener restart): the sidecar looks at the port, finds it open, and nothing else happens.
func TestIdleConnectionEndsOnLiveMongodNoVerdict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		p := newPorts()
		c := newPortCluster(t, w, p, slowTicks)
		defer c.stop()
		c.waitHealthy(h1)
		waitFor(t, 5*time.Second, "a holds an idle connection to h1", func() bool { return p.count(p.holds, "a", h1) > 0 })

		for i := range 3 {
			time.Sleep(2 * localWatchMinLife) // fake time: the connection lived, the next one opens at once
			p.drop("a", h1, false)
			waitFor(t, 5*time.Second, "a looks at h1's port", func() bool { return p.count(p.reaches, "a", h1) > i })
			waitFor(t, 5*time.Second, "a holds a new idle connection", func() bool { return p.count(p.holds, "a", h1) > i+1 })
		}
		assertQuiet(t, c, w, 5*time.Second)
		if l := c.status("a").Local; l == nil || !l.Reachable {
			t.Errorf("a's local view after blips: %+v", l)
		}
	})
}

// The primary's own sidecar is refused (only it: a local firewall rule, say) while every other
// sidecar reaches h1. They look at h1 at once on its report, find it open, and no verdict comes:
// one sidecar's report is a reason to look, never a vote.
func TestPeerReportOfRefusedIsCheckedNotBelieved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		p := newPorts()
		c := newPortCluster(t, w, p, slowTicks)
		defer c.stop()
		c.waitHealthy(h1)
		waitFor(t, 5*time.Second, "a holds an idle connection to h1", func() bool { return p.count(p.holds, "a", h1) > 0 })

		w.node("a", h1).FailAll(mongotest.Refused(h1))
		p.drop("a", h1, true)
		waitFor(t, 5*time.Second, "a reports its mongod refused", func() bool {
			l := c.status("a").Local
			return l != nil && !l.Reachable
		})
		for _, id := range []string{"b", "c", "d"} {
			waitFor(t, 2*time.Second, id+" looks at h1's port", func() bool { return p.count(p.reaches, id, h1) > 0 })
		}
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			for _, id := range []string{"b", "c", "d"} {
				if a := c.status(id).Analysis; a.Actionable() {
					t.Fatalf("%s: actionable %s on one sidecar's report: %v", id, a.Kind, a.Evidence)
				}
			}
		}
		for _, h := range []string{h2, h3} {
			if n := w.calls(h, mongotest.OpStepUp); n != 0 {
				t.Errorf("replSetStepUp sent to %s %d times", h, n)
			}
		}
		// Looking is bounded: once per probe interval per unchanged report, not once per push.
		for _, id := range []string{"b", "c", "d"} {
			if n := p.count(p.reaches, id, h1); n > 2 {
				t.Errorf("%s looked at h1's port %d times in 5s of an unchanged report", id, n)
			}
		}
	})
}

// The primary's mongod dies: its sidecar's idle connection ends, the port refuses, the report is
// pushed at once and every peer looks at once. The first looks of the dying port still connect
// (the listener closes last), which must delay the verdict by milliseconds, not by a tick. The step-up comes well within one probe interval
// (20s here), so no tick explains it.
func TestCrashDetectedBeforeTheNextTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		p := newPorts()
		c := newPortCluster(t, w, p, slowTicks)
		defer c.stop()
		c.waitHealthy(h1)
		waitFor(t, 5*time.Second, "a holds an idle connection to h1", func() bool { return p.count(p.holds, "a", h1) > 0 })
		time.Sleep(time.Second) // away from the start-up rounds

		w.kill(h1)
		p.mu.Lock()
		p.dying[[2]string{"a", h1}] = 2 // a's first two looks still connect
		p.mu.Unlock()
		for _, m := range threeData {
			p.drop(m.id, h1, true)
		}
		took := waitFor(t, 5*time.Second, "step-up of h2", func() bool { return w.calls(h2, mongotest.OpStepUp) > 0 })
		t.Logf("replSetStepUp sent %v after the crash (fake time, probe.interval 20s)", took)
		// The candidate's own sidecar (b, beside h2) executes it (election/executor.go).
		if recs := c.findAudit("b", election.StepUp, election.ReasonPrimaryProcessDead); len(recs) != 1 {
			t.Errorf("audit of b: %+v", c.audit("b"))
		}
	})
}

// worldPID is the fake mongods' topologyVersion.processId; the world's term is the counter.
const worldPID = "6650c6f2a3b1c2d3e4f50617"

func (n portNode) tv() mongo.TopologyVersion {
	n.p.w.mu.Lock()
	defer n.p.w.mu.Unlock()
	return mongo.TopologyVersion{ProcessID: worldPID, Counter: n.p.w.term}
}

func (n portNode) Hello(ctx context.Context) (mongo.Hello, error) {
	h, err := n.Node.Hello(ctx)
	if err == nil && n.p.w != nil {
		h.TopologyVersion = n.tv()
	}
	return h, err
}

// AwaitHello answers when the world's term moves (an election anywhere), as mongod answers an
// awaitable hello when its topologyVersion moves.
func (n portNode) AwaitHello(ctx context.Context, tv mongo.TopologyVersion, maxAwait time.Duration) (mongo.Hello, error) {
	if n.p.w == nil {
		return n.Node.Hello(ctx)
	}
	end := time.Now().Add(maxAwait)
	for n.tv() == tv && time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return mongo.Hello{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return n.Hello(ctx)
}

// MongoDB elects h2 on its own: h2's sidecar reports its mongod PRIMARY in the new term well
// within one probe interval (20s here), because it waits on the awaitable hello.
func TestOwnElectionReportedBeforeTheNextTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		p := newPorts()
		p.w = w
		c := newPortCluster(t, w, p, slowTicks)
		defer c.stop()
		c.waitHealthy(h1)
		time.Sleep(time.Second) // away from the start-up rounds

		w.promote(h2)
		took := waitFor(t, 5*time.Second, "b reports h2 PRIMARY in term 4", func() bool {
			l := c.status("b").Local
			return l != nil && l.Reachable && l.State == topology.StatePrimary && l.Term == 4
		})
		t.Logf("b reported its own election %v after it (fake time, probe.interval 20s)", took)
	})
}
