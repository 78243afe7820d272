package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rsguard/rsguard/drill"
	"github.com/rsguard/rsguard/lab"
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
	set         *drill.LocalSet
	hosts       []*mongodHost
	cars        []*sidecar // data sidecars in host order, then the arbiter sidecar
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
	defer d.shutdown()

	err = d.run(ctx, c)
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

func (d *demo) run(ctx context.Context, c Options) error {
	bins, err := lab.FindBinaries(ctx, lab.BinOptions{Dir: filepath.Join(d.dir, "bin"), LookBeside: true,
		Supervisor: d.exe, Log: d.out})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.say("mongod: %s", bins.Mongod)
	d.say("working directory: %s", d.dir)
	if err := d.startSet(ctx, bins, c.FirstIP); err != nil {
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
	if c.Once {
		if res.problem != "" {
			return failure(Failed, "demo: %s", res.problem)
		}
		return nil
	}
	d.watchForever(ctx)
	return nil
}

// startSet starts the demo's set through drill's local set (the one `supervisor drill` runs):
// three mongods on the first three addresses from 127.0.0.firstIP, each run by its sidecar, and
// an arbiter sidecar on the fourth address, with no mongod; initiated with MongoDB's default
// election settings; every sidecar ready and settled. Each step is narrated as it happens.
func (d *demo) startSet(ctx context.Context, bins lab.Binaries, firstIP int) error {
	set, err := drill.NewLocalSet(ctx, nil, drill.LocalSetOptions{Dir: d.dir, Binaries: bins, FirstN: firstIP, FirstFree: true,
		Members: 3, Arbiters: -1, Bare: 1, Generator: "supervisor demo", Progress: d.say})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.set = set
	byHost := map[*lab.Host]*mongodHost{}
	for _, h := range set.Cluster.DataHosts() {
		m := &mongodHost{Host: h}
		d.hosts = append(d.hosts, m)
		byHost[h] = m
	}
	for _, c := range set.Sidecars.Cars {
		d.cars = append(d.cars, &sidecar{Sidecar: c, id: c.ID, http: c.HTTP, config: c.Config, audit: c.Audit, host: byHost[c.Host]})
	}
	return nil
}

// waitFor polls f (lab.Poll) until it succeeds, ctx ends or timeout passes; the error names
// what was awaited and the last reason.
func (d *demo) waitFor(ctx context.Context, timeout time.Duration, what string, f func(context.Context) (string, error)) (string, error) {
	var v string
	err := lab.Poll(ctx, timeout, func(ctx context.Context) error {
		var err error
		v, err = f(ctx)
		return err
	})
	switch {
	case err == nil:
		return v, nil
	case ctx.Err() != nil:
		return "", ctx.Err()
	}
	return "", fmt.Errorf("demo: no %s after %s: %w", what, timeout, err)
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
}

func hostNames(hs []*mongodHost) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.name()
	}
	return out
}
