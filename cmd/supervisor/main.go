// Command supervisor is rsguard's sidecar and its operator tools (DESIGN.md L4): a thin main
// over config, supervisor and api.
//
//	supervisor run --config FILE           run a sidecar beside a mongod (or as an arbiter)
//	supervisor validate-config FILE...     check config files, print a summary or every error;
//	                                       several files are also checked against each other
//	supervisor status [--addr URL]         what a running sidecar sees and why it (does not) act
//	supervisor demo [--once]               a local replica set, sidecars, a crash and its failover
//	supervisor rollback list|show|export   the rollback archive: writes rollbacks undid, to review
//	supervisor resync watch [--addr URL]   a member's automatic resync, with a progress bar
//
// Exit codes: 0 success, 1 a failed check (validate-config, status, demo), 2 usage or a
// configuration that does not load.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kong"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

type cli struct {
	Run            runCmd      `cmd:"" help:"Run a sidecar beside a mongod (or as an arbiter)."`
	ValidateConfig validateCmd `cmd:"" name:"validate-config" help:"Check configuration files: print a summary, or every error with file:line:col; several files are also checked against each other."`
	Status         statusCmd   `cmd:"" help:"Show what a running sidecar sees: members, who sees what, analysis, last decision."`
	Demo           demoCmd     `cmd:"" help:"Start a local 3-member replica set with rsguard sidecars, kill the primary and narrate the failover."`
	Rollback       rollbackCmd `cmd:"" help:"Review the rollback archive: the writes rollbacks undid (list, show, export)."`
	Resync         resyncCmd   `cmd:"" help:"Follow a member's automatic resync (watch: a progress bar with ETA)."`
}

// env is what every command gets: where to write, and a context that ends on Ctrl-C for the
// commands that do not handle signals themselves.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
}

// exitError carries a command's exit code; its message, if any, has not been printed yet.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func fail(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

// kongExit is kong's request to exit (after --help), turned into a panic so that tests never
// see os.Exit.
type kongExit int

func main() {
	os.Exit(Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// Main is the command without the process exit: it returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	var c cli
	parser, err := kong.New(&c,
		kong.Name("supervisor"),
		kong.Description("rsguard: failover supervisor for self-hosted MongoDB replica sets."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(kongExit(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		fmt.Fprintf(stderr, "supervisor: %v\n", err)
		return exitUsage
	}
	defer func() {
		if r := recover(); r != nil {
			k, ok := r.(kongExit)
			if !ok {
				panic(r)
			}
			code = int(k)
		}
	}()
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "supervisor: %v (see supervisor --help)\n", err)
		return exitUsage
	}
	err = kctx.Run(&env{ctx: ctx, stdout: stdout, stderr: stderr})
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "supervisor: %v\n", err)
	return exitFailed
}
