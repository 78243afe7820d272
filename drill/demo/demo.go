package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rsguard/rsguard/drill"
	"github.com/rsguard/rsguard/lab"
	"github.com/rsguard/rsguard/mongo"
)

// Options configure one demo run.
type Options struct {
	Out        io.Writer // the narration
	Once       bool      // fail over once, print the verdict and return (an *Error when it failed)
	Dir        string    // working directory, kept; must be empty or absent ("": a temporary one)
	Keep       bool      // keep the temporary directory at exit
	FirstIP    int       // use 127.0.0.N..N+3
	Supervisor string    // the supervisor binary the sidecars run
}

// failoverDeadline bounds the wait for a writable new primary after the kill.
const failoverDeadline = 30 * time.Second

// demo is one run: the processes it started and what it measured.
type demo struct {
	out         io.Writer
	dir         string
	exe         string
	started     time.Time
	lease       *lab.Lease
	hosts       []*mongodHost
	arbiter     *lab.Host // the arbiter sidecar's address
	set         *lab.SidecarSet
	cars        []*sidecar
	http        *http.Client
	client      drill.Store
	closeClient func(context.Context) error
	load        *workload
	coord       string // the coordinator before the fault
}

// Run sets up the replica set and the sidecars, kills the primary and narrates the failover. It
// always stops every process it started, on success, error and Ctrl-C alike.
func Run(parent context.Context, c Options) (err error) {
	if c.Supervisor == "" {
		return fmt.Errorf("demo: no supervisor binary to start the sidecars")
	}
	ctx, stop := signal.NotifyContext(parent, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d := &demo{out: c.Out, exe: c.Supervisor, started: time.Now(), http: &http.Client{Timeout: 2 * time.Second}}
	cleanupDir, err := c.prepareDir(d)
	if err != nil {
		return err
	}
	defer cleanupDir()
	d.lease, err = lab.LeaseBlock(ctx, lab.LeaseOptions{First: c.FirstIP, Count: 4})
	if err != nil {
		return fmt.Errorf("demo: --first-ip %d: %w", c.FirstIP, err)
	}
	defer d.lease.Close()
	defer d.shutdown()

	err = d.run(ctx, c.Once)
	if ctx.Err() != nil && parent.Err() == nil {
		fmt.Fprintln(d.out, "\ninterrupted: stopping the sidecars and mongods")
		if c.Once {
			return failure(Interrupted, "demo: interrupted before the failover was verified")
		}
		return nil // Ctrl-C is how the interactive demo ends
	}
	return err
}

// prepareDir creates the working directory and returns what to do with it at exit.
func (c Options) prepareDir(d *demo) (func(), error) {
	if c.Dir == "" {
		dir, err := os.MkdirTemp("", "rsguard-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		d.dir = dir
		return func() {
			if c.Keep {
				fmt.Fprintf(d.out, "kept %s (configs, audit logs, process logs, data)\n", dir)
				return
			}
			_ = os.RemoveAll(dir)
		}, nil
	}
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("demo: --dir: %w", err)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, failure(Usage, "demo: --dir %s is not empty: the demo initiates a fresh replica set there", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: --dir: %w", err)
	}
	d.dir = dir
	return func() { fmt.Fprintf(d.out, "kept %s (configs, audit logs, process logs, data)\n", dir) }, nil
}

// say prints a setup line with the time since the demo started.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "[%5.1fs] %s\n", time.Since(d.started).Seconds(), fmt.Sprintf(format, args...))
}

func (d *demo) run(ctx context.Context, once bool) error {
	bins, err := lab.FindBinaries(ctx, lab.BinOptions{Dir: filepath.Join(d.dir, "bin"), LookBeside: true,
		Supervisor: d.exe, Log: d.out})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.say("mongod: %s", bins.Mongod)
	d.say("working directory: %s", d.dir)
	if err := d.layoutSet(bins); err != nil {
		return err
	}
	if err := d.startSidecars(); err != nil {
		return err
	}
	if err := d.initiate(ctx); err != nil {
		return err
	}
	if err := d.waitSidecarsReady(ctx); err != nil {
		return err
	}
	d.client, d.closeClient, err = drill.DialStore(ctx, drill.Seeds{Set: demoSet, Hosts: hostNames(d.hosts)}, "writes")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.load = startWorkload(ctx, d.client)
	d.say("workload: one w:\"majority\" insert every %s through a replica-set client (driver defaults, retryable writes)", writeEvery)
	if err := d.waitQuiet(ctx); err != nil {
		return err
	}
	res, err := d.failover(ctx)
	if err != nil {
		return err
	}
	d.printSummary(res)
	if res.problem == "" {
		if p := d.operate(ctx, res); p != "" {
			res.problem = p
			fmt.Fprintf(d.out, "operator: FAILED: %s\n", p)
		}
	}
	fmt.Fprintln(d.out)
	d.printVerdict(res)
	if once {
		if res.problem != "" {
			return failure(Failed, "demo: %s", res.problem)
		}
		return nil
	}
	d.watchForever(ctx)
	return nil
}

// layoutSet lays out three mongods on the first three leased addresses (their sidecars start
// them) and the arbiter sidecar's address.
func (d *demo) layoutSet(bins lab.Binaries) error {
	for i, addr := range d.lease.Addrs {
		h, err := lab.NewHost(nil, lab.HostOptions{N: d.lease.First + i, Dir: filepath.Join(d.dir, addr),
			ReplSet: demoSet, Mongod: bins.Mongod, Emulated: bins.Emulated, External: true,
			ConnectTimeout: 500 * time.Millisecond, AppName: "rsguard-demo"})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if i == 3 {
			d.arbiter = h
			break
		}
		d.hosts = append(d.hosts, &mongodHost{Host: h})
	}
	return nil
}

// initiate waits for the mongods the sidecars started and initiates the set.
func (d *demo) initiate(ctx context.Context) error {
	for i, h := range d.hosts {
		if err := d.waitListening(ctx, h, d.cars[i]); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		pid := 0
		if r, err := d.cars[i].status(ctx, d.http); err == nil && r.Process != nil {
			pid = r.Process.Pid
		}
		d.say("mongod %s is up (pid %d, dbpath %s), started by sidecar %s (process.controller exec)", h.name(), pid, h.dbpath(), d.cars[i].id)
	}
	names := hostNames(d.hosts)
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := mongo.Initiate(ictx, names[0], demoSet, names); err != nil {
		return fmt.Errorf("demo: replSetInitiate on %s: %w", names[0], err)
	}
	d.say("replSetInitiate %s with %s (MongoDB's default election settings: electionTimeoutMillis 10000)", demoSet, strings.Join(names, ", "))
	p, err := d.waitFor(ctx, 60*time.Second, "a primary and two secondaries", func(ctx context.Context) (string, error) {
		return d.allHealthy(ctx)
	})
	if err != nil {
		return err
	}
	d.say("replica set is up: primary %s, two secondaries", p)
	return nil
}

// allHealthy returns the primary once there is exactly one and the others are SECONDARY.
func (d *demo) allHealthy(ctx context.Context) (string, error) {
	var primary string
	for _, h := range d.hosts {
		hl, err := h.hello(ctx)
		switch {
		case err != nil:
			return "", err
		case hl.IsWritablePrimary:
			primary = h.name()
		case !hl.Secondary:
			return "", fmt.Errorf("%s is %s", h.name(), hl.State())
		}
	}
	if primary == "" {
		return "", fmt.Errorf("no primary yet")
	}
	return primary, nil
}

// waitFor polls f until it succeeds, ctx ends or timeout passes; the error names what was awaited
// and the last reason.
func (d *demo) waitFor(ctx context.Context, timeout time.Duration, what string, f func(context.Context) (string, error)) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		v, err := f(ctx)
		if err == nil {
			return v, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("demo: no %s after %s: %v", what, timeout, err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// startSidecars writes the four configs and starts the sidecars; each data sidecar starts its
// mongod.
func (d *demo) startSidecars() error {
	set, cars, err := newDemoSidecars(d.exe, d.dir, d.hosts, d.arbiter)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.set, d.cars = set, cars
	for _, s := range cars {
		if err := set.Start(s.Sidecar); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		beside := "arbiter mode, no mongod"
		if s.host != nil {
			beside = "beside " + s.host.name()
		}
		d.say("started sidecar %s (%s): gossip %s, http %s, pid %d", s.id, beside, s.Gossip, s.base(), s.Proc.Pid())
	}
	return nil
}

// waitListening waits until the mongod, started by its sidecar, accepts connections; the
// sidecar's exit ends the wait with its log tail.
func (d *demo) waitListening(ctx context.Context, h *mongodHost, car *sidecar) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := h.WaitListening(ctx, car.Proc.Done())
	switch {
	case errors.Is(err, lab.ErrExited):
		return fmt.Errorf("sidecar %s exited before its mongod %s listened; last lines of %s:\n%s", car.id, h.name(),
			car.Output, tail(car.Output, 15))
	case err != nil:
		return fmt.Errorf("mongod %s (started by sidecar %s) does not accept connections: %w; see %s and %s", h.name(), car.id, err,
			filepath.Join(h.Dir, "mongod.out"), h.LogPath)
	}
	return nil
}

// tail is the last n lines of a log, for error messages.
func tail(path string, n int) string { return strings.Join(lab.TailLines(path, n), "\n") }

// waitSidecarsReady waits until every sidecar answers /readyz.
func (d *demo) waitSidecarsReady(ctx context.Context) error {
	for _, s := range d.cars {
		_, err := d.waitFor(ctx, 60*time.Second, "ready sidecar "+s.id, func(ctx context.Context) (string, error) {
			select {
			case <-s.Proc.Done():
				return "", fmt.Errorf("it exited; last lines of %s:\n%s", s.Output, tail(s.Output, 15))
			default:
			}
			return "", s.ready(ctx, d.http)
		})
		if err != nil {
			return err
		}
	}
	d.say("all 4 sidecars ready (/readyz): gossip settled, each data sidecar sees its mongod in set %s", demoSet)
	return nil
}

// shutdown stops everything: the sidecars (SIGTERM: they leave the gossip cluster cleanly), and
// with them (their process group) the mongods they run; then whatever is left on the hosts.
func (d *demo) shutdown() {
	if d.load != nil {
		d.load.stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if d.closeClient != nil {
		_ = d.closeClient(ctx)
	}
	if d.set != nil {
		_ = d.set.Close()
	}
	for _, h := range d.hosts {
		_ = h.Close()
	}
	if d.arbiter != nil {
		_ = d.arbiter.Close()
	}
}

func hostNames(hs []*mongodHost) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.name()
	}
	return out
}
