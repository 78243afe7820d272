package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Options describe a replica set to start.
type Options struct {
	// Members is the number of data-bearing members (default 3).
	Members int
	// Arbiters are added after the data members, with arbiterOnly: true.
	Arbiters int
	// Bare addresses are leased with the set but run no mongod and are not members: the own
	// address of an arbiter-mode sidecar (BareHosts).
	Bare int
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
	// 127.0.0.2 (addresses are leased across concurrently running processes).
	FirstN int
	// FirstFree, with FirstN, takes the first free block from 127.0.0.FirstN instead of failing
	// when that exact block is in use (the demo's --first-ip).
	FirstFree bool
	// Timeout bounds startup: processes up, initiate, a primary and every member healthy
	// (default 60s).
	Timeout time.Duration
	// NoInitiate only starts the processes (for tests of initiate itself).
	NoInitiate bool
	// Security runs the set with a key file, TLS and a root user (security.go).
	Security *Security

	// Dir holds one directory per host (required).
	Dir string
	// Binaries are the executables (Mongod required).
	Binaries Binaries
}

// Cluster is a replica set of Hosts on leased loopback addresses. Close kills everything it
// started, removes the cgroups and releases the addresses.
type Cluster struct {
	Timeline *Timeline

	opts  Options
	log   *slog.Logger
	lease *Lease
	hosts []*Host
	bare  []*Host
	sec   *security

	closeOnce sync.Once
	closeErr  error
}

// NewCluster leases addresses, starts one mongod per member with --setParameter
// enableTestCommands=1, runs replSetInitiate (arbiters last, with arbiterOnly) and waits for a
// primary and every member healthy (creating the root user when Options.Security asks). On error
// everything started is closed.
func NewCluster(ctx context.Context, log *slog.Logger, opts Options) (c *Cluster, err error) {
	if opts.Members == 0 {
		opts.Members = 3
	}
	if opts.ReplSet == "" {
		opts.ReplSet = "rs0"
	}
	if opts.Timeout == 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.Dir == "" || opts.Binaries.Mongod == "" {
		return nil, errors.New("lab: cluster needs Options.Dir and Options.Binaries.Mongod")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c = &Cluster{Timeline: NewTimeline(), opts: opts, log: log}
	defer func() {
		if err != nil {
			// The logs say why a member did not come up; the directories stay for the owner.
			if logs := c.DumpLogs(40); logs != "" && len(c.hosts) > 0 && c.hosts[0].proc.Pid() != 0 {
				err = fmt.Errorf("%w\n%s", err, logs)
			}
			_ = c.Close()
			c = nil
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	total := opts.Members + opts.Arbiters + opts.Bare
	if c.lease, err = LeaseBlock(ctx, LeaseOptions{First: opts.FirstN, Count: total, Exact: opts.FirstN != 0 && !opts.FirstFree, Timeout: opts.Timeout}); err != nil {
		return c, fmt.Errorf("lease loopback addresses: %w", err)
	}
	if opts.Security != nil {
		if c.sec, err = newSecurity(filepath.Join(opts.Dir, "security"), *opts.Security); err != nil {
			return c, err
		}
	}
	params := map[string]string{"enableTestCommands": "1"}
	for k, v := range opts.ExtraParams {
		if !opts.Binaries.Emulated && strings.HasPrefix(k, "mongoemu") {
			log.Info("real mongod: dropping emulator-only parameter", "name", k, "value", v)
			continue
		}
		params[k] = v
	}
	for i, addr := range c.lease.Addrs {
		h, err := NewHost(log, HostOptions{N: c.lease.First + i, Dir: filepath.Join(opts.Dir, addr),
			ReplSet: opts.ReplSet, Arbiter: i >= opts.Members && i < opts.Members+opts.Arbiters, Mongod: opts.Binaries.Mongod,
			Emulated: opts.Binaries.Emulated, OplogSizeMB: opts.OplogSizeMB, Params: params,
			Timeline: c.Timeline, security: c.sec})
		if err != nil {
			return c, err
		}
		if i >= opts.Members+opts.Arbiters {
			c.bare = append(c.bare, h)
			continue
		}
		c.hosts = append(c.hosts, h)
	}
	if ok, why := cgroupsAvailable(); !ok {
		log.Info("hosts run without cgroups: partitions are unavailable", "why", why)
	}
	if err := c.startAll(ctx); err != nil {
		return c, fmt.Errorf("start cluster: %w", err)
	}
	if opts.NoInitiate {
		return c, nil
	}
	if err := c.Initiate(ctx); err != nil {
		return c, err
	}
	p, err := c.WaitHealthy(ctx, time.Until(deadlineOf(ctx)))
	if err != nil {
		return c, err
	}
	c.Timeline.Mark("primary %s, all members healthy", p)
	if c.sec != nil {
		if err := c.createRoot(ctx, p); err != nil {
			return c, err
		}
	}
	return c, nil
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
	return errors.Join(errs...)
}

// ReplSet is the set name.
func (c *Cluster) ReplSet() string { return c.opts.ReplSet }

// Hosts are all hosts: data members first, then arbiters.
func (c *Cluster) Hosts() []*Host { return append([]*Host(nil), c.hosts...) }

// DataHosts are the data-bearing members.
func (c *Cluster) DataHosts() []*Host { return append([]*Host(nil), c.hosts[:c.opts.Members]...) }

// BareHosts are the leased addresses that run no mongod (Options.Bare).
func (c *Cluster) BareHosts() []*Host { return slices.Clone(c.bare) }

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

// Seeds are the data members' "host:port" names.
func (c *Cluster) Seeds() []string {
	var seeds []string
	for _, h := range c.DataHosts() {
		seeds = append(seeds, h.HostPort())
	}
	return seeds
}

// URI is the replica-set URI over the data members: mongodb://h1,h2,h3/?replicaSet=rs0.
func (c *Cluster) URI() string {
	return "mongodb://" + strings.Join(c.Seeds(), ",") + "/?replicaSet=" + c.opts.ReplSet
}

// DumpLogs renders the last n lines of every host's logs.
func (c *Cluster) DumpLogs(n int) string {
	var b strings.Builder
	for _, h := range c.hosts {
		if tail := h.LogTail(n); tail != "" {
			fmt.Fprintf(&b, "host %s (%s):\n%s", h, h.proc.ExitState(), tail)
		}
	}
	return b.String()
}

// Close kills every host's processes, removes their cgroups and releases the addresses. It is
// idempotent; the hosts' directories stay (the owner removes them).
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		all := append(slices.Clone(c.hosts), c.bare...)
		errs := make([]error, len(all))
		var wg sync.WaitGroup
		for i, h := range all {
			wg.Go(func() { errs[i] = h.Close() })
		}
		wg.Wait()
		if c.lease != nil {
			errs = append(errs, c.lease.Close())
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
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
