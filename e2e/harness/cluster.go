package harness

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// Options describe a replica set to start.
type Options struct {
	// Members is the number of data-bearing members (default 3).
	Members int
	// Arbiters are added after the data members, with arbiterOnly: true.
	Arbiters int
	// ReplSet is the set name (default "rs0").
	ReplSet string
	// Settings is the config's settings document (e.g. electionTimeoutMillis,
	// heartbeatIntervalMillis); nil keeps mongod's defaults.
	Settings bson.D
	// OplogSizeMB is passed as --oplogSizeMB when > 0.
	OplogSizeMB int
	// ExtraParams are extra --setParameter name=value pairs. Names starting with "mongoemu" are
	// emulator-only and are dropped (with a log line) when running a real mongod.
	ExtraParams map[string]string
	// FirstN pins the first address to 127.0.0.FirstN; 0 takes the lowest free block from
	// 127.0.0.2 (addresses are leased across concurrently running test binaries).
	FirstN int
	// Timeout bounds startup: processes up, initiate, a primary and every member healthy
	// (default 60s).
	Timeout time.Duration
	// NoInitiate only starts the processes (for tests of initiate itself).
	NoInitiate bool
	// Security runs the set with a key file, TLS and a root user (security.go).
	Security *Security
}

// Cluster is a replica set of Hosts started for one test. Everything it starts is killed when
// the test ends; if the test failed, the last 40 log lines of every host and the timeline are
// logged first.
type Cluster struct {
	t        testing.TB
	opts     Options
	hosts    []*Host
	Timeline *Timeline
	sec      *clusterSecurity
}

// NewCluster builds the binaries (once), leases addresses, starts one mongod per member with
// --setParameter enableTestCommands=1, runs replSetInitiate and waits for a primary and all
// members healthy. Call it from the test goroutine.
func NewCluster(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Members == 0 {
		opts.Members = 3
	}
	if opts.ReplSet == "" {
		opts.ReplSet = "rs0"
	}
	if opts.Timeout == 0 {
		opts.Timeout = 60 * time.Second
	}
	bins := Build(t)
	c := &Cluster{t: t, opts: opts, Timeline: NewTimeline()}
	total := opts.Members + opts.Arbiters
	root := t.TempDir() // before the cleanup below, which must still read the logs
	leases, err := leaseAddrs(opts.FirstN, total, opts.Timeout)
	if err != nil {
		t.Fatalf("lease loopback addresses: %v", err)
	}
	t.Cleanup(func() { c.cleanup(leases) })
	if opts.Security != nil {
		if c.sec, err = newClusterSecurity(filepath.Join(root, "security"), *opts.Security); err != nil {
			t.Fatalf("security material: %v", err)
		}
	}

	params := map[string]string{"enableTestCommands": "1"}
	for k, v := range opts.ExtraParams {
		if !bins.Emulated && strings.HasPrefix(k, "mongoemu") {
			t.Logf("real mongod: dropping emulator-only parameter %s=%s", k, v)
			continue
		}
		params[k] = v
	}
	for i, l := range leases {
		cg, err := openHostCgroup(l.addr)
		if err != nil {
			t.Fatalf("%v", err)
		}
		port, err := pickPort(l.addr)
		if err != nil {
			t.Fatalf("%v", err)
		}
		dir := filepath.Join(root, l.addr)
		h := &Host{
			N: l.n, Addr: l.addr, Port: port, Dir: dir,
			DBPath: filepath.Join(dir, "db"), LogPath: filepath.Join(dir, "mongod.log"),
			ReplSet: opts.ReplSet, Arbiter: i >= opts.Members, Emulated: bins.Emulated,
			bin: bins.Mongod, oplogSizeMB: opts.OplogSizeMB, params: maps.Clone(params),
			cg: cg, timeline: c.Timeline, sec: c.sec,
		}
		h.proc = &Proc{Name: "mongod", Path: h.bin, Args: h.Args(), cg: cg,
			StdoutPath: filepath.Join(dir, "mongod.stdout"), StderrPath: filepath.Join(dir, "mongod.stderr")}
		c.hosts = append(c.hosts, h)
	}
	if ok, why := cgroupsAvailable(); !ok {
		t.Logf("hosts run without cgroups (%s): partitions will be skipped", why)
	}

	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	if err := c.startAll(ctx); err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	if opts.NoInitiate {
		return c
	}
	if _, err := c.hosts[0].Command(ctx, bson.D{{Key: "replSetInitiate", Value: c.InitialConfig()}}); err != nil {
		t.Fatalf("replSetInitiate on %s: %v", c.hosts[0], err)
	}
	c.Timeline.Mark("replSetInitiate on %s", c.hosts[0])
	p := c.WaitHealthy(t, time.Until(deadlineOf(ctx)))
	c.Timeline.Mark("primary %s, all members healthy", p)
	if c.sec != nil {
		if err := c.createRoot(ctx, p); err != nil {
			t.Fatalf("%v", err)
		}
	}
	return c
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

func (c *Cluster) startAll(ctx context.Context) error {
	errs := make([]error, len(c.hosts))
	var wg sync.WaitGroup
	for i, h := range c.hosts {
		wg.Go(func() { errs[i] = h.Start(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// InitialConfig is the replSetInitiate document: members in host order, _id 0.., arbiters
// last with arbiterOnly, and Options.Settings.
func (c *Cluster) InitialConfig() bson.D {
	var members bson.A
	for i, h := range c.hosts {
		m := bson.D{{Key: "_id", Value: int32(i)}, {Key: "host", Value: h.HostPort()}}
		if h.Arbiter {
			m = append(m, bson.E{Key: "arbiterOnly", Value: true})
		}
		members = append(members, m)
	}
	cfg := bson.D{{Key: "_id", Value: c.opts.ReplSet}, {Key: "members", Value: members}}
	if c.opts.Settings != nil {
		cfg = append(cfg, bson.E{Key: "settings", Value: c.opts.Settings})
	}
	return cfg
}

// Hosts are all hosts: data members first, then arbiters.
func (c *Cluster) Hosts() []*Host { return append([]*Host(nil), c.hosts...) }

// DataHosts are the data-bearing members.
func (c *Cluster) DataHosts() []*Host { return append([]*Host(nil), c.hosts[:c.opts.Members]...) }

// Others are all hosts but h.
func (c *Cluster) Others(h *Host) []*Host {
	var out []*Host
	for _, o := range c.hosts {
		if o != h {
			out = append(out, o)
		}
	}
	return out
}

// ByAddr finds a host by "127.0.0.N" or "127.0.0.N:port".
func (c *Cluster) ByAddr(addr string) *Host {
	for _, h := range c.hosts {
		if h.Addr == addr || h.HostPort() == addr {
			return h
		}
	}
	return nil
}

// URI is the replica-set URI over the data members: mongodb://h1,h2,h3/?replicaSet=rs0.
func (c *Cluster) URI() string {
	var seeds []string
	for _, h := range c.DataHosts() {
		seeds = append(seeds, h.HostPort())
	}
	return "mongodb://" + strings.Join(seeds, ",") + "/?replicaSet=" + c.opts.ReplSet
}

// MajorityClient is a replica-set client with w:majority, retryable writes and a short server
// selection timeout; it is disconnected when the test ends.
func (c *Cluster) MajorityClient(t testing.TB) *mongo.Client {
	t.Helper()
	opts := c.sec.apply(options.Client().ApplyURI(c.URI()), true).
		SetWriteConcern(writeconcern.Majority()).
		SetRetryWrites(true).
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(time.Second).
		SetHeartbeatInterval(500 * time.Millisecond).
		SetAppName("rsguard-e2e")
	cl, err := mongo.Connect(opts)
	if err != nil {
		t.Fatalf("connect %s: %v", c.URI(), err)
	}
	t.Cleanup(func() { disconnect(cl) })
	return cl
}

// DumpLogs logs the last n lines of every host's logs.
func (c *Cluster) DumpLogs(t testing.TB, n int) {
	t.Helper()
	for _, h := range c.hosts {
		if tail := h.LogTail(n); tail != "" {
			t.Logf("host %s (%s):\n%s", h, h.proc.ExitState(), tail)
		}
	}
}

func (c *Cluster) cleanup(leases []*addrLease) {
	var wg sync.WaitGroup
	for _, h := range c.hosts {
		wg.Go(h.shutdown)
	}
	wg.Wait()
	if c.t.Failed() {
		c.DumpLogs(c.t, 40)
		c.Timeline.Log(c.t)
	}
	releaseAll(leases)
}

// String lists the members, for messages.
func (c *Cluster) String() string {
	var parts []string
	for _, h := range c.hosts {
		role := "data"
		if h.Arbiter {
			role = "arbiter"
		}
		parts = append(parts, fmt.Sprintf("%s(%s)", h, role))
	}
	return c.opts.ReplSet + "[" + strings.Join(parts, " ") + "]"
}
