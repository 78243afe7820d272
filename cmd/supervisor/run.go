package main

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/dashboard"
	"github.com/rsguard/rsguard/supervisor"
)

type runCmd struct {
	Config string `short:"c" required:"" placeholder:"FILE" help:"Sidecar configuration file (YAML)."`
}

// Run loads the config, then runs the supervisor and the HTTP API until SIGINT or SIGTERM. SIGHUP
// reloads the reloadable sections (probe, failover, log.level); a refused reload keeps the running
// configuration. Only startup errors make it exit non-zero: once running, a sidecar's job is to
// keep running and say what is wrong.
func (c *runCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if err != nil {
		return fail(exitUsage, "%v", err) // already file:line:col: key: message, one per line
	}
	level := new(slog.LevelVar)
	level.Set(cfg.Log.Level.Slog())
	logger := newLogger(e.stderr, cfg.Log.Format, level)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	var tlsConfig *tls.Config
	if t := cfg.HTTP.TLS; t != nil {
		if tlsConfig, err = api.TLSConfig(t.CertFile, t.KeyFile, t.ClientCAFile); err != nil {
			return fail(exitFailed, "supervisor: http.tls: %v", err)
		}
	}
	// Listen before the supervisor binds its gossip sockets, so that a busy HTTP port fails the
	// start with nothing to undo.
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fail(exitFailed, "supervisor: http.listen: %v", err)
	}
	sup, err := supervisor.New(supervisor.Options{Config: cfg, Logger: logger, Registry: reg})
	if err != nil {
		_ = ln.Close()
		return fail(exitFailed, "supervisor: %v", err)
	}
	handler := api.New(logger, reg, api.Options{
		Status:     func() any { return sup.Status() },
		Ready:      sup.Ready,
		Warnings:   sup.Warnings,
		Cluster:    sup.Cluster,
		Act:        sup.Act,
		Request:    sup.Request,
		History:    sup.History,
		Subscribe:  sup.Subscribe,
		Audit:      sup.Audit,
		Local:      sup.Local,
		UI:         dashboard.Handler(),
		AdminToken: cfg.HTTP.AdminToken.Reveal(),
		ReadToken:  cfg.HTTP.ReadToken.Reveal(),
		Gatherer:   reg,
	})

	ctx, stop := signal.NotifyContext(e.ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	logger.Info("starting", "config", cfg, "http", ln.Addr().String(), "http_tls", tlsConfig != nil)
	var wg sync.WaitGroup
	wg.Go(func() { reloadLoop(ctx, hup, c.Config, cfg, sup, level, logger) })
	var serveErr error
	wg.Go(func() {
		serveErr = api.Serve(ctx, ln, handler, tlsConfig)
		if serveErr != nil && ctx.Err() == nil {
			stop() // the API is part of the sidecar: without it nobody can see what it does
		}
	})
	runErr := sup.Run(ctx)
	stop()
	wg.Wait()
	if runErr != nil {
		logger.Warn("supervisor stopped with errors", "err", runErr)
	}
	if serveErr != nil && !errors.Is(serveErr, context.Canceled) {
		return fail(exitFailed, "supervisor: %v", serveErr)
	}
	logger.Info("stopped")
	return nil
}

// reloadLoop applies SIGHUPs: config.ReloadPolicy decides what may change; anything else is
// refused with the reason and the old configuration stays in force.
func reloadLoop(ctx context.Context, hup <-chan os.Signal, path string, cur *config.Config,
	sup *supervisor.Supervisor, level *slog.LevelVar, logger *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		next, changed, err := config.ReloadPolicy(cur, path)
		if err != nil {
			logger.Error("reload refused: keeping the running configuration", "file", path,
				"errors", strings.Split(err.Error(), "\n"))
			continue
		}
		if len(changed) == 0 {
			logger.Info("reload: nothing changed", "file", path)
			continue
		}
		if err := sup.Reload(next); err != nil {
			logger.Error("reload refused by the supervisor: keeping the running configuration", "err", err)
			continue
		}
		cur = next
		level.Set(next.Log.Level.Slog())
		logger.Info("reloaded", "changed", changed)
	}
}

// newLogger logs durations as Go duration strings ("1.5s"), not nanoseconds: the JSON handler
// would write 1500000000, which no operator reads as a second and a half.
func newLogger(w io.Writer, format config.LogFormat, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: durationsAsText}
	if format == config.LogText {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// durationsAsText is the loggers' ReplaceAttr: a duration becomes its String().
func durationsAsText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}
