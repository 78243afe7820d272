package drill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/lab"
)

// LocalSetOptions describe the set `supervisor drill` starts when it is given no --uri (and the
// demo's, with other counts).
type LocalSetOptions struct {
	// Dir receives one directory per host (dbpath, logs) and sidecars/ (configs, audit logs,
	// their output, the admin token). Required.
	Dir string
	// Binaries: Mongod and Supervisor are required.
	Binaries lab.Binaries
	// FirstN pins the first address to 127.0.0.FirstN (0: the lowest free block); with
	// FirstFree, the first free block from there.
	FirstN    int
	FirstFree bool
	// Members are the data-bearing members (default 4) and Arbiters the arbiter mongods
	// (default 1; negative: none), each arbiter host with an arbiter sidecar. Four data members
	// and an arbiter make five voters, a write majority of three data members: with any one data
	// member down or stopped, w:"majority" writes and the majority commit point go on
	// (kill-secondary, stale-secondary-resync: a real mongod keeps its oplog past its size while
	// the commit point is held back, spec §7.1), and lose-arbiter has an arbiter to lose.
	Members, Arbiters int
	// Bare are arbiter sidecars on addresses of their own, with no mongod (the demo's third
	// witness).
	Bare int
	// OplogSizeMB is every member's --oplogSizeMB (default 2): small, so that
	// stale-secondary-resync writes past a member's window in seconds.
	OplogSizeMB int
	// Timeout bounds the start: processes, initiate, a healthy set, ready and settled sidecars
	// (default 2m).
	Timeout time.Duration
	// Generator names the tool in the generated files' headers (default "supervisor drill").
	Generator string
	// Progress, when set, is told each step of the start as it happens (a narration).
	Progress func(format string, args ...any)
}

func (o LocalSetOptions) withDefaults() LocalSetOptions {
	if o.Members <= 0 {
		o.Members = 4
	}
	if o.Arbiters < 0 {
		o.Arbiters = 0
	} else if o.Arbiters == 0 {
		o.Arbiters = 1
	}
	if o.OplogSizeMB <= 0 {
		o.OplogSizeMB = 2
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Generator == "" {
		o.Generator = "supervisor drill"
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	return o
}

// LocalSet is a replica set the drill starts on 127.0.0.N with rsguard sidecars beside every
// member: data sidecars run their mongods (process.controller exec), the lab runs the arbiters'.
// Close tears everything down.
type LocalSet struct {
	Cluster  *lab.Cluster
	Sidecars *lab.SidecarSet
	Target   *Local
}

// NewLocalSet starts the set, initiates it with MongoDB's default election settings, and waits
// until it is healthy and every sidecar is ready and settled (a coordinator, a quorum, the
// quiet period after the first election over). On error everything started is torn down.
func NewLocalSet(ctx context.Context, log *slog.Logger, o LocalSetOptions) (s *LocalSet, err error) {
	o = o.withDefaults()
	switch {
	case o.Dir == "":
		return nil, errors.New("drill: local set: no directory")
	case o.Binaries.Mongod == "" || o.Binaries.Supervisor == "":
		return nil, errors.New("drill: local set: needs a mongod and a supervisor binary")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	s = &LocalSet{}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Close())
			s = nil
		}
	}()
	s.Cluster, err = lab.NewCluster(ctx, log, lab.Options{Members: o.Members, Arbiters: o.Arbiters, Bare: o.Bare,
		OplogSizeMB: o.OplogSizeMB, FirstN: o.FirstN, FirstFree: o.FirstFree, Timeout: o.Timeout, NoInitiate: true,
		Dir: o.Dir, Binaries: o.Binaries,
		// A resync stops its mongod: without the 15 s quiesce of a signalled shutdown.
		ExtraParams: map[string]string{"shutdownTimeoutMillisForSignaledShutdown": "1000"}})
	if err != nil {
		return s, fmt.Errorf("drill: local set: %w", err)
	}
	if err := s.startSidecars(log, o); err != nil {
		return s, err
	}
	if err := s.initiate(ctx, o); err != nil {
		return s, err
	}
	if err := s.Sidecars.WaitStarted(ctx, time.Until(deadline(ctx))); err != nil {
		return s, fmt.Errorf("drill: local set: %w", err)
	}
	o.Progress("all %d sidecars ready (/readyz): gossip settled, each data sidecar sees its mongod in set %s", len(s.Sidecars.Cars), s.Cluster.ReplSet())
	tok, err := s.Sidecars.Token(s.Sidecars.Cars[0])
	if err != nil {
		return s, err
	}
	if s.Target, err = NewLocal(log, s.Cluster, s.Sidecars, LocalTargetOptions{Token: tok, OplogSizeMB: o.OplogSizeMB}); err != nil {
		return s, err
	}
	o.Progress("waiting until every sidecar sees a healthy set with a coordinator and a quorum, and the first election is %s old (rsguard keeps out of MongoDB's way that long after any election)",
		election.DefaultPolicy().ElectionQuiet)
	if err := s.Target.WaitSettled(ctx); err != nil {
		return s, fmt.Errorf("drill: local set: %w", err)
	}
	return s, nil
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// NewLocalSidecars lays out the sidecars of a local set in dir (one flat directory: configs,
// state, audit logs, output, one keyring and one admin token): one beside each data member
// (running its mongod) and an arbiter sidecar on each arbiter host. generator names the tool in
// the files' headers.
func NewLocalSidecars(bin, set, dir, generator string, data, arbiters []*lab.Host) (*lab.SidecarSet, error) {
	so, err := lab.LocalSidecarOptions(dir, "the gossip key of a `"+generator+"` local set")
	if err != nil {
		return nil, err
	}
	so.Header = func(c *lab.Sidecar) string {
		return fmt.Sprintf("Generated by `%s`: sidecar %s of replica set %s.", generator, c.ID, set)
	}
	return lab.NewSidecarSet(bin, set, data, arbiters, so)
}

// startSidecars hands each data member's mongod over to a sidecar of its own (the lab's
// process is killed before the set is initiated; the sidecar starts one with the same command
// line) and starts the arbiter sidecars beside the arbiter mongods and on the bare addresses.
func (s *LocalSet) startSidecars(log *slog.Logger, o LocalSetOptions) error {
	data := s.Cluster.DataHosts()
	arbiters := append(s.Cluster.Hosts()[o.Members:], s.Cluster.BareHosts()...)
	for _, h := range data {
		if err := h.HandOver(); err != nil {
			return fmt.Errorf("drill: local set: %w", err)
		}
	}
	dir := filepath.Join(o.Dir, "sidecars")
	var err error
	if s.Sidecars, err = NewLocalSidecars(o.Binaries.Supervisor, s.Cluster.ReplSet(), dir, o.Generator, data, arbiters); err != nil {
		return fmt.Errorf("drill: local set: %w", err)
	}
	for _, c := range s.Sidecars.Cars {
		if err := s.Sidecars.Start(c); err != nil {
			return fmt.Errorf("drill: local set: %w", err)
		}
		beside := "arbiter mode, no mongod"
		switch {
		case c.Mode == lab.ModeData:
			beside = "beside " + c.Host.HostPort()
		case c.Host.Arbiter:
			beside = "arbiter mode, beside the arbiter " + c.Host.HostPort()
		}
		o.Progress("started sidecar %s (%s): gossip %s, http %s, pid %d", c.ID, beside, c.Gossip, c.Base(), c.Proc.Pid())
	}
	log.Info("local set: sidecars started", "set", s.Cluster.String(), "dir", dir)
	return nil
}

// initiate waits for the sidecars' mongods, initiates the set and starts the first election
// with replSetStepUp instead of waiting out electionTimeoutMillis: a start-up shortcut, the
// settings stay MongoDB's defaults for every drilled failover.
func (s *LocalSet) initiate(ctx context.Context, o LocalSetOptions) error {
	var names []string
	for _, h := range s.Cluster.DataHosts() {
		car := s.Sidecars.ByHost(h)
		if err := h.WaitListening(ctx, car.Proc.Done()); err != nil {
			return fmt.Errorf("drill: local set: mongod on %s (run by sidecar %s): %w; see %s\n%s", h, car.ID, err, h.LogPath, car.Proc.Tail(15))
		}
		pids, _ := h.MongodPIDs()
		o.Progress("mongod %s is up (pid %v, dbpath %s), started by sidecar %s (process.controller exec)", h.HostPort(), pids, h.DBPath, car.ID)
	}
	for _, h := range s.Cluster.Hosts() {
		names = append(names, h.HostPort())
	}
	if err := s.Cluster.Initiate(ctx); err != nil {
		return fmt.Errorf("drill: local set: %w", err)
	}
	o.Progress("replSetInitiate %s with %s (MongoDB's default election settings: electionTimeoutMillis 10000)", s.Cluster.ReplSet(), strings.Join(names, ", "))
	if _, err := s.Cluster.ElectFirst(ctx, s.Cluster.Hosts()[0], time.Until(deadline(ctx))); err != nil {
		return fmt.Errorf("drill: local set: %w", err)
	}
	p, err := s.Cluster.WaitHealthy(ctx, time.Until(deadline(ctx)))
	if err != nil {
		return fmt.Errorf("drill: local set: %w", err)
	}
	o.Progress("replica set is up: primary %s, %d other members healthy", p.HostPort(), len(s.Cluster.Hosts())-1)
	return nil
}

// Close stops the sidecars (and with them the mongods they run), kills every other process of
// the set, a mongod a restarted sidecar adopted included, and releases the addresses. The
// directory stays.
func (s *LocalSet) Close() error {
	var errs []error
	if s.Target != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		errs = append(errs, s.Target.Close(ctx))
		cancel()
	}
	if s.Sidecars != nil {
		errs = append(errs, s.Sidecars.Close())
	}
	if s.Cluster != nil {
		for _, h := range s.Cluster.Hosts() {
			if pids, err := h.MongodPIDs(); err == nil && len(pids) > 0 {
				_ = lab.SignalPIDs(syscall.SIGKILL, pids...)
				errs = append(errs, lab.WaitPIDsGone(context.Background(), pids...))
			}
		}
		errs = append(errs, s.Cluster.Close())
	}
	return errors.Join(errs...)
}
