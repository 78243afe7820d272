package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/drill"
)

type drillCmd struct {
	Scenario  []string      `sep:"," placeholder:"NAME,..." help:"Scenarios to run, in order (see --list)."`
	All       bool          `help:"Run every scenario."`
	List      bool          `help:"List the scenarios and exit."`
	Runs      int           `default:"1" placeholder:"N" help:"Run each scenario N times."`
	URI       string        `placeholder:"mongodb://HOST:PORT,.../?replicaSet=NAME" help:"Drill a set of your own, given by its connection string (credentials included if it needs them); without it, a local set the drill starts and removes."`
	Sidecars  []string      `sep:"," placeholder:"HOST:PORT,..." help:"With --uri: the set's sidecars' API addresses (their http.listen)."`
	YesReally bool          `name:"yes-really" help:"With --uri: yes, kill, stall and lag the members of that set for real."`
	TokenFile string        `name:"token-file" placeholder:"FILE" help:"The sidecars' admin token (switchover); else env RSGUARD_TOKEN."`
	JSON      string        `name:"json" placeholder:"FILE" help:"Also write the report as JSON to FILE."`
	HTML      string        `name:"html" placeholder:"FILE" help:"Also write a self-contained HTML report (a timeline per run) to FILE."`
	Wait      time.Duration `default:"60s" help:"How long a run waits for the set: healthy before the fault, a new writable primary under it."`
	Verbose   bool          `short:"v" help:"Log each run's end on stderr."`

	drillLocalFlags `embed:""`
}

func (c *drillCmd) Run(e *env) error {
	if c.List {
		for _, s := range drill.Scenarios() {
			fmt.Fprintf(e.stdout, "%-30s %s\n", s.Name, s.Summary)
		}
		return nil
	}
	scs, err := c.scenarios()
	if err != nil {
		return err
	}
	// Ctrl-C ends the runs: the fault in progress is undone and a local set torn down.
	ctx, stop := signal.NotifyContext(e.ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	e = &env{ctx: ctx, stdout: e.stdout, stderr: e.stderr}
	log := slog.New(slog.DiscardHandler)
	if c.Verbose {
		log = slog.New(slog.NewTextHandler(e.stderr, nil))
	}
	target, err := c.target()
	if err != nil {
		return err
	}
	if target == nil { // no --uri: a local set, torn down at the end
		set, teardown, err := c.localSet(e, log)
		if err != nil {
			return err
		}
		defer teardown()
		target = set.Target
	}
	defer func() { _ = target.Close(e.ctx) }()
	opts := drill.Options{WaitTimeout: c.Wait}
	var progress *drill.Progress
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		progress = drill.NewProgress(e.stderr, len(scs)*c.Runs)
		opts.Observer = progress
	}
	started := time.Now()
	results := drill.NewRunner(log, target, opts).RunAll(ctx, scs, c.Runs)
	if progress != nil {
		_ = progress.Finish()
	}
	report := drill.NewReport(target.Name(), started, time.Now(), results)
	if err := drill.WriteTable(e.stdout, report); err != nil {
		return err
	}
	if err := c.write(report); err != nil {
		return fail(exitFailed, "supervisor drill: %v", err)
	}
	if ctx.Err() != nil {
		return fail(exitFailed, "supervisor drill: interrupted after %d of %d runs", len(results), len(scs)*c.Runs)
	}
	if !report.OK() {
		return fail(exitFailed, "")
	}
	return nil
}

// scenarios resolves --scenario / --all.
func (c *drillCmd) scenarios() ([]drill.Scenario, error) {
	switch {
	case c.Wait <= 0:
		return nil, fail(exitUsage, "supervisor drill: --wait %s: must be positive", c.Wait)
	case c.Runs < 1:
		return nil, fail(exitUsage, "supervisor drill: --runs %d: must be at least 1", c.Runs)
	case c.All && len(c.Scenario) > 0:
		return nil, fail(exitUsage, "supervisor drill: give --scenario or --all, not both")
	case c.All:
		return drill.Scenarios(), nil
	case len(c.Scenario) == 0:
		return nil, fail(exitUsage, "supervisor drill: give --scenario NAME,... or --all (known: %s)", strings.Join(drill.Names(), ", "))
	}
	scs, err := drill.Lookup(c.Scenario)
	if err != nil {
		return nil, fail(exitUsage, "supervisor drill: --scenario: %v", err)
	}
	return scs, nil
}

// target is the remote set of --uri, or nil for the local set.
func (c *drillCmd) target() (drill.Target, error) {
	if c.URI == "" {
		if len(c.Sidecars) > 0 || c.YesReally {
			return nil, fail(exitUsage, "supervisor drill: --sidecars and --yes-really go with --uri")
		}
		return nil, nil
	}
	if g := c.given(); g != "" {
		return nil, fail(exitUsage, "supervisor drill: %s go with the local set, not with --uri", g)
	}
	if !c.YesReally {
		return nil, fail(exitUsage, "supervisor drill: --uri names a set the drill did not start: its members will really be killed, stalled and lagged; add --yes-really to go ahead")
	}
	token := os.Getenv(tokenEnv)
	if c.TokenFile != "" {
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return nil, fail(exitUsage, "supervisor drill: --token-file: %v", err)
		}
		token = strings.TrimSpace(string(b))
	}
	var cars []drill.Sidecar
	for _, addr := range c.Sidecars {
		cl, err := apiclient.New(apiclient.Options{Addr: addr, Token: token})
		if err != nil {
			return nil, fail(exitUsage, "supervisor drill: --sidecars %q: %s", addr, flagNames(err.Error()))
		}
		cars = append(cars, drill.Sidecar{Addr: addr, Client: cl})
	}
	t, err := drill.NewRemote(slog.New(slog.DiscardHandler), drill.RemoteOptions{URI: c.URI, Sidecars: cars})
	if err != nil {
		return nil, fail(exitUsage, "supervisor %v", err)
	}
	return t, nil
}

// write writes the --json and --html files.
func (c *drillCmd) write(r drill.Report) error {
	var errs []error
	for _, out := range []struct {
		path  string
		write func(*os.File) error
	}{
		{c.JSON, func(f *os.File) error { return drill.WriteJSON(f, r) }},
		{c.HTML, func(f *os.File) error { return drill.WriteHTML(f, r) }},
	} {
		if out.path == "" {
			continue
		}
		f, err := os.Create(out.path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, out.write(f), f.Close())
	}
	return errors.Join(errs...)
}
