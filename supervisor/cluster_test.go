package supervisor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/heartbeat"
	"github.com/rsguard/rsguard/heartbeat/memnet"
	"github.com/rsguard/rsguard/mongo"
)

// testLogger is silent unless RSGUARD_TEST_LOG names a level (debug, info, warn, error).
func testLogger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("RSGUARD_TEST_LOG"))); err != nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// member is one sidecar of a test cluster: data sidecars have a host, arbiters none.
type member struct {
	id, host, zone string
}

// threeData is a, b, c beside h1..h3 (127.0.0.2..4:27017) plus the arbiter sidecar d.
var threeData = []member{
	{"a", "127.0.0.2:27017", "z1"}, {"b", "127.0.0.3:27017", "z2"},
	{"c", "127.0.0.4:27017", "z3"}, {"d", "", "z3"},
}

const h1, h2, h3 = "127.0.0.2:27017", "127.0.0.3:27017", "127.0.0.4:27017"

func gossipAddr(i int) string { return fmt.Sprintf("127.0.0.%d:7946", i+2) }

// cluster runs supervisors over a memnet network and a fake world, inside a synctest bubble.
type cluster struct {
	t      *testing.T
	w      *world
	net    *memnet.Network
	dir    string
	ms     []member
	sups   map[string]*Supervisor
	regs   map[string]*prometheus.Registry
	cancel map[string]context.CancelFunc
	done   map[string]chan error
	// yamlEdit, when set, rewrites each generated config before it is parsed.
	yamlEdit func(string) string
	// wrap, when set, wraps every Node a sidecar dials (detect_test.go adds a port to it).
	wrap func(sidecar, host string, n mongo.Node) mongo.Node
	// ctrls, when set, gives the named data sidecars a process controller (process_test.go).
	ctrls map[string]*fakeController
}

// testKeyring writes the test clusters' gossip keyring into dir (once) and returns its path:
// sidecar configs need one unless they say gossip.insecure.
func testKeyring(dir string) string {
	path := filepath.Join(dir, "gossip.keyring")
	if _, err := os.Stat(path); err != nil {
		_ = os.MkdirAll(dir, 0o755)
		_ = os.WriteFile(path, []byte("# test only\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"), 0o600)
	}
	return path
}

// configYAML is sidecar i's config; extra is appended (probe/failover overrides).
func configYAML(dir string, ms []member, i int, extra string) string {
	m := ms[i]
	var b strings.Builder
	mode := "data"
	if m.host == "" {
		mode = "arbiter"
	}
	fmt.Fprintf(&b, "id: %s\nmode: %s\nreplica_set: rs0\nstate_dir: %s\n", m.id, mode, filepath.Join(dir, m.id))
	if m.host != "" {
		fmt.Fprintf(&b, "mongod:\n  uri: mongodb://%s/?directConnection=true\n", m.host)
	}
	fmt.Fprintf(&b, "gossip:\n  bind: %s\n  settle: 2s\n  keyring_file: %s\nmembers:\n", gossipAddr(i), testKeyring(dir))
	for j, o := range ms {
		if o.host == "" {
			fmt.Fprintf(&b, "  - {id: %s, mode: arbiter, gossip: %s, zone: %s}\n", o.id, gossipAddr(j), o.zone)
		} else {
			fmt.Fprintf(&b, "  - {id: %s, gossip: %s, mongod: %s, zone: %s}\n", o.id, gossipAddr(j), o.host, o.zone)
		}
	}
	b.WriteString(extra)
	return b.String()
}

func newCluster(t *testing.T, w *world, ms []member, extra string) *cluster {
	t.Helper()
	return newClusterEdited(t, w, ms, extra, nil)
}

// newClusterEdited is newCluster with every generated config rewritten by yamlEdit.
func newClusterEdited(t *testing.T, w *world, ms []member, extra string, yamlEdit func(string) string) *cluster {
	t.Helper()
	return newClusterInto(t, &cluster{t: t, w: w, yamlEdit: yamlEdit}, ms, extra)
}

// newClusterInto completes c (t, w and any test hooks set) and starts a sidecar per member.
func newClusterInto(t *testing.T, c *cluster, ms []member, extra string) *cluster {
	t.Helper()
	c.net, c.dir, c.ms = memnet.NewNetwork(), t.TempDir(), ms
	c.sups, c.regs = map[string]*Supervisor{}, map[string]*prometheus.Registry{}
	c.cancel, c.done = map[string]context.CancelFunc{}, map[string]chan error{}
	for i := range ms {
		c.add(i, extra)
	}
	return c
}

func (c *cluster) add(i int, extra string) *Supervisor {
	c.t.Helper()
	m := c.ms[i]
	text := configYAML(c.dir, c.ms, i, extra)
	if c.yamlEdit != nil {
		text = c.yamlEdit(text)
	}
	cfg, err := config.Parse(m.id+".yaml", []byte(text))
	if err != nil {
		c.t.Fatalf("config of %s: %v", m.id, err)
	}
	tr, err := c.net.NewTransport(gossipAddr(i))
	if err != nil {
		c.t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s, err := New(Options{
		Config:   cfg,
		Logger:   testLogger(c.t.Output()).With("test_sidecar", m.id),
		Registry: reg,
		DialMongo: func(_ context.Context, host string) (mongo.Node, error) {
			if c.wrap != nil {
				return c.wrap(m.id, host, c.w.node(m.id, host)), nil
			}
			return c.w.node(m.id, host), nil
		},
		GossipOptions: func(o *heartbeat.Options) { o.Transport = tr },
		Controller:    c.controllerOf(m.id),
	})
	if err != nil {
		c.t.Fatalf("New %s: %v", m.id, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	c.sups[m.id], c.regs[m.id], c.cancel[m.id], c.done[m.id] = s, reg, cancel, done
	return s
}

// stop ends every supervisor and lets memberlist's in-flight probes time out before the bubble
// ends (fake time stops when the test function returns).
func (c *cluster) stop() {
	for id, cancel := range c.cancel {
		cancel()
		if err := <-c.done[id]; err != nil {
			c.t.Errorf("%s: Run: %v", id, err)
		}
	}
	time.Sleep(10 * time.Second)
}

func (c *cluster) status(id string) StatusReport { return c.sups[id].Status() }

// waitFor polls cond every 100ms (fake time) and returns how long it took.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

// waitHealthy waits until every sidecar is ready and sees a healthy set with primary.
func (c *cluster) waitHealthy(primary string) {
	c.t.Helper()
	waitFor(c.t, 30*time.Second, "all ready and healthy", func() bool {
		for id := range c.sups {
			st := c.status(id)
			if !st.Ready || st.Analysis.Kind != election.Healthy || st.Analysis.Primary != primary {
				return false
			}
		}
		return true
	})
}

func (c *cluster) audit(id string) []AuditRecord {
	c.t.Helper()
	recs, err := ReadAudit(filepath.Join(c.dir, id, config.DefaultAuditLogName))
	if err != nil && !os.IsNotExist(err) && !strings.Contains(err.Error(), "no such file") {
		c.t.Fatal(err)
	}
	return recs
}

// findAudit returns the records of id matching action kind and reason.
func (c *cluster) findAudit(id string, action election.ActionKind, reason election.Reason) []AuditRecord {
	var out []AuditRecord
	for _, r := range c.audit(id) {
		if r.Decision.Action == action && r.Reason == reason {
			out = append(out, r)
		}
	}
	return out
}

// metric sums the samples of name whose labels include the pairs; false if absent.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) (float64, bool) {
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
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
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
