// Command mongoemu runs one emulated MongoDB 7.0 mongod (package mongoemu) with mongod's command
// line, log format, signals and exit codes, so scripts and the e2e harness can start either.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/rsguard/rsguard/mongoemu"
	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is main without the process exit; it returns mongod's exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cl, err := mongoemu.ParseCommandLine(args)
	if err != nil {
		printParseError(stderr, err)
		return exitBadOptions
	}
	if cl.Help {
		_, _ = fmt.Fprint(stdout, usage)
		return exitClean
	}
	if cl.Version {
		_, _ = fmt.Fprint(stdout, mongoemu.VersionText())
		return exitClean
	}
	opts := cl.Options
	// mongod logs to stdout unless --logpath is set; the node then writes the file itself.
	logger := slog.New(newMongodLogHandler(stdout))
	if opts.LogPath != "" {
		if !cl.LogAppend {
			if err := rotateOldLog(opts.LogPath); err != nil {
				_, _ = fmt.Fprintln(stderr, err)
				return exitUncaught
			}
		}
		f, err := os.OpenFile(opts.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			_, _ = fmt.Fprintf(stderr, "Error: cannot open --logpath %s: %v\n", opts.LogPath, err)
			return exitBadOptions
		}
		// Startup lines written before the node owns the file; the node appends after them.
		logger = slog.New(newMongodLogHandler(f))
		defer func() { _ = f.Close() }()
	} else {
		opts.Logger = logger
	}
	logEvent(logger, slog.LevelInfo, "CONTROL", 4615611, "MongoDB starting",
		"pid", os.Getpid(), "port", opts.Port, "dbPath", opts.DBPath, "architecture", "64-bit")
	logEvent(logger, slog.LevelInfo, "CONTROL", 21951, "Options set by command line", "options", cl.Args)
	if err := dbPathMissing(opts.DBPath); err != nil {
		return startupFailure(logger, err, exitUncaught)
	}
	n, err := mongoemu.New(opts)
	if err != nil {
		return startupFailure(logger, err, startupExitCode(err))
	}
	return serve(n, logger)
}

func startupFailure(logger *slog.Logger, err error, code int) int {
	msg := err.Error()
	var me *mongoerr.Error
	if errors.As(err, &me) {
		msg = me.Code.Name() + ": " + me.Msg // mongod's Status formatting
	}
	logEvent(logger, slog.LevelError, "CONTROL", 20557, "DBException in initAndListen, terminating", "error", msg)
	logEvent(logger, slog.LevelInfo, "CONTROL", 20565, "Now exiting")
	logEvent(logger, slog.LevelInfo, "CONTROL", 23138, "Shutting down", "exitCode", code)
	return code
}

// serve runs the node until a shutdown command, a signal, or a fatal error. The first SIGTERM or
// SIGINT starts mongod's clean shutdown (quiesce on a secondary); a second one stops at once.
func serve(n *mongoemu.Node, logger *slog.Logger) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	errc := make(chan error, 1)
	go func() { errc <- n.Serve(context.Background()) }()
	signaled := false
	for {
		select {
		case sig := <-sigs:
			if signaled {
				go n.Stop(nil)
				continue
			}
			signaled = true
			go n.ShutdownSignaled(sig)
		case err := <-errc:
			if mongoemu.IsFatalAssertion(err) {
				// fassertFailed → std::abort(): mongod's SIGABRT handler writes this line and
				// the process dies by the signal (util/signal_handlers_synchronous.cpp).
				logEvent(logger, slog.LevelError+4, "CONTROL", 6384300, "Writing fatal message", "message", "Got signal: 6 (Aborted).\n")
				dieBySignal(syscall.SIGABRT)
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				logEvent(logger, slog.LevelError+4, "CONTROL", 23089, "Fatal error, terminating", "error", err.Error())
				return exitAbrupt
			}
			return exitClean
		}
	}
}
