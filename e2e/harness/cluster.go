package harness

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/lab"
)

// Options describe a replica set to start (lab.Options; Dir and Binaries default to the
// test's temp dir and BuildOnce's binaries).
type Options = lab.Options

// Cluster is a replica set of Hosts started for one test (a lab.Cluster whose host-taking
// methods take and return harness Hosts). Everything it starts is killed when the test ends; if
// the test failed, the last 40 log lines of every host and the timeline are logged first.
type Cluster struct {
	*lab.Cluster
	t     testing.TB
	hosts []*Host
	byLab map[*lab.Host]*Host
}

// NewCluster builds the binaries (once), leases addresses, starts one mongod per member with
// --setParameter enableTestCommands=1, runs replSetInitiate and waits for a primary and all
// members healthy. Call it from the test goroutine.
func NewCluster(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Binaries.Mongod == "" {
		opts.Binaries = Build(t)
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir() // before the cleanup below, which must still read the logs
	}
	w := &testWriter{t: t}
	w.on.Store(true)
	defer w.on.Store(false) // the lab logs only while it starts; t.Log after the test panics
	lc, err := lab.NewCluster(context.Background(), slog.New(slog.NewTextHandler(w, nil)), opts)
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	c := &Cluster{Cluster: lc, t: t, byLab: map[*lab.Host]*Host{}}
	for _, lh := range lc.Hosts() {
		h := &Host{Host: lh}
		c.hosts = append(c.hosts, h)
		c.byLab[lh] = h
	}
	for _, lh := range lc.BareHosts() {
		c.byLab[lh] = &Host{Host: lh}
	}
	t.Cleanup(func() {
		if err := lc.Close(); err != nil {
			t.Logf("cluster cleanup: %v", err)
		}
		if t.Failed() {
			c.DumpLogs(t, 40)
			c.Timeline.Log(t)
		}
	})
	return c
}

// testWriter sends the lab's log lines to the test log while on.
type testWriter struct {
	t  testing.TB
	on atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if w.on.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (c *Cluster) wrap(h *lab.Host) *Host {
	if h == nil {
		return nil
	}
	return c.byLab[h]
}

func (c *Cluster) wrapAll(hs []*lab.Host) []*Host {
	out := make([]*Host, len(hs))
	for i, h := range hs {
		out[i] = c.byLab[h]
	}
	return out
}

func unwrap(hs []*Host) []*lab.Host {
	out := make([]*lab.Host, len(hs))
	for i, h := range hs {
		out[i] = h.Host
	}
	return out
}

// Hosts are all hosts: data members first, then arbiters.
func (c *Cluster) Hosts() []*Host { return append([]*Host(nil), c.hosts...) }

// BareHosts are the leased addresses that run no mongod (Options.Bare).
func (c *Cluster) BareHosts() []*Host { return c.wrapAll(c.Cluster.BareHosts()) }

// DataHosts are the data-bearing members.
func (c *Cluster) DataHosts() []*Host { return c.wrapAll(c.Cluster.DataHosts()) }

// Others are all hosts but h.
func (c *Cluster) Others(h *Host) []*Host { return c.wrapAll(c.Cluster.Others(h.Host)) }

// ByAddr finds a host by "127.0.0.N" or "127.0.0.N:port".
func (c *Cluster) ByAddr(addr string) *Host { return c.wrap(c.Cluster.ByAddr(addr)) }

// MajorityClient is a replica-set client with w:majority, retryable writes and a short server
// selection timeout; it is disconnected when the test ends.
func (c *Cluster) MajorityClient(t testing.TB) *mongo.Client {
	t.Helper()
	o := options.Client().ApplyURI(c.URI()).
		SetWriteConcern(writeconcern.Majority()).
		SetRetryWrites(true).
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(time.Second).
		SetHeartbeatInterval(500 * time.Millisecond).
		SetAppName("rsguard-e2e")
	cl, err := mongo.Connect(withSecurity(o, c.TLSConfig(), c.rootIfCreated))
	if err != nil {
		t.Fatalf("connect %s: %v", c.URI(), err)
	}
	t.Cleanup(func() { disconnect(cl) })
	return cl
}

func (c *Cluster) rootIfCreated() (lab.Credential, bool) {
	return c.Cluster.RootCredential(), c.HasRoot()
}

// DumpLogs logs the last n lines of every host's logs.
func (c *Cluster) DumpLogs(t testing.TB, n int) {
	t.Helper()
	if logs := c.Cluster.DumpLogs(n); logs != "" {
		t.Logf("%s", logs)
	}
}
