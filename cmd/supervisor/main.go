// Command supervisor is rsguard's sidecar and its operator tools (DESIGN.md L4): a thin main
// over config, supervisor, api and apiclient.
//
//	supervisor run --config FILE            run a sidecar beside a mongod (or as an arbiter)
//	supervisor validate-config FILE...      check config files, print a summary or every error;
//	                                        several files are also checked against each other
//	supervisor status [--sidecar]           the whole set (GET /v1/cluster), or with --sidecar
//	                                        the answering sidecar's own report (GET /v1/status)
//	supervisor switchover [--to HOST]       planned hand-off of the primary
//	supervisor failover --to HOST [--force] manual failover
//	supervisor resync MEMBER                resync a member from scratch (= resync run MEMBER)
//	supervisor resync watch                 follow the sidecar's member's resync, progress bar
//	supervisor pause | resume | ack         stop / allow automatic actions; lift the anti-flap block
//	supervisor history | events | audit     what happened: the history, live events, the audit log
//	supervisor request ID                   one operator request
//	supervisor rollback list|show|export    the rollback archive: writes rollbacks undid, to review
//	supervisor demo [--once]                a local replica set, sidecars, a crash and its failover
//	supervisor drill --scenario a,b | --all  failure scenarios under a workload: table, --json, --html;
//	                                        --uri URI --sidecars A,B --yes-really for a set of your own
//	supervisor help [COMMAND], --version
//
// The API verbs share --addr (default the default http.listen, 127.0.0.1:9216; env
// RSGUARD_ADDR), --token-file (else env RSGUARD_TOKEN), --ca-file, --cert-file, --key-file,
// --timeout and -o/--output table|json; the actions also take --actor (default $USER) and --why,
// and switchover, failover and resync take --dry-run and --wait.
//
// Exit codes:
//
//	status                         0 healthy, 1 degraded, 2 critical (no writable primary or no
//	                               sidecar quorum) or the sidecar unreachable or refusing the token
//	status --sidecar               0 ready and healthy, 1 not ready or an unhealthy analysis, 2 no
//	                               quorum or unreachable
//	switchover, failover, resync,  0 done or planned (--dry-run), or accepted with --wait 0;
//	pause, resume, ack             1 refused or failed, or not ended within --wait;
//	                               2 usage, unreachable, auth refused (401/403), bad request (400)
//	                               or unknown member or request (404)
//	history, events, audit,        0 success, 1 a server error, 2 usage, unreachable, 400, 401,
//	request                        403, 404 (request: 1 also for a refused or failed action)
//	validate-config, demo,         0 success, 1 a failed check, 2 usage or a configuration that
//	rollback, run                  does not load
//	drill                          0 every run passed (skips allowed, not all), 1 a run failed or
//	                               errored, or interrupted, 2 usage
//	resync watch                   0 done, 1 failed or none started within --wait, 2 unreachable
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/alecthomas/kong"

	"github.com/rsguard/rsguard/config"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

type cli struct {
	Version kong.VersionFlag `help:"Print the version (module version, VCS revision and time, Go version) and exit."`

	Run            runCmd      `cmd:"" help:"Run a sidecar beside a mongod (or as an arbiter)."`
	ValidateConfig validateCmd `cmd:"" name:"validate-config" help:"Check configuration files: print a summary, or every error with file:line:col; several files are also checked against each other."`
	Status         statusCmd   `cmd:"" help:"Show the replica set: primary, health, quorum, members, sidecars, problems. Exit 0 healthy, 1 degraded, 2 critical or unreachable."`

	Switchover switchoverCmd `cmd:"" group:"Actions" help:"Hand the primary over to a caught-up member (planned)."`
	Failover   failoverCmd   `cmd:"" group:"Actions" help:"Make --to the primary now (manual failover)."`
	Resync     resyncCmd     `cmd:"" group:"Actions" help:"Resync a member from scratch (resync MEMBER), or follow a resync (resync watch)."`
	Pause      pauseCmd      `cmd:"" group:"Actions" help:"Stop every automatic action on every sidecar until resumed."`
	Resume     resumeCmd     `cmd:"" group:"Actions" help:"Lift the pause."`
	Ack        ackCmd        `cmd:"" group:"Actions" help:"Acknowledge the last failover: lift the anti-flap block."`

	History historyCmd `cmd:"" group:"Records" help:"Incidents, failovers and operator actions, oldest first."`
	Events  eventsCmd  `cmd:"" group:"Records" help:"Follow the events as they happen (after the history), until Ctrl-C."`
	Audit   auditCmd   `cmd:"" group:"Records" help:"The sidecar's audit log."`
	Request requestCmd `cmd:"" group:"Records" help:"One operator request by its id."`

	Rollback rollbackCmd `cmd:"" help:"Review the rollback archive: the writes rollbacks undid (list, show, export)."`
	Demo     demoCmd     `cmd:"" help:"Start a local 3-member replica set with rsguard sidecars, kill the primary and narrate the failover."`
	Drill    drillCmd    `cmd:"" help:"Rehearse failures (kill, freeze, isolate, stall, lag, switchover...) under a workload and report detection, decision, write outage, losses and recovery."`
	Help     helpCmd     `cmd:"" help:"Show this help (or a command's)."`
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
		kong.Vars{"default_addr": config.DefaultHTTPListen, "version": versionText(debug.ReadBuildInfo())},
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
