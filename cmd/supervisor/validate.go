package main

import (
	"fmt"
	"strings"

	"github.com/rsguard/rsguard/config"
)

type validateCmd struct {
	Files []string `arg:"" name:"FILE" help:"Configuration files to check."`
	Print bool     `help:"Also print the effective configuration (defaults applied, secrets left out)."`
}

// Run loads every file and prints "FILE: ok" with a summary, or every problem of the file, each
// as config reports it: file:line:col: key: message. When every file loads, they are checked
// against each other (config.CrossCheck: ids, members, the keys every sidecar must agree on,
// mongod.uri against members[].mongod). Exit 1 if any file or the cross-check fails.
func (c *validateCmd) Run(e *env) error {
	bad := 0
	var loaded []*config.Config
	for _, f := range c.Files {
		cfg, err := config.Load(f)
		if err != nil {
			bad++
			fmt.Fprintln(e.stderr, err)
			continue
		}
		loaded = append(loaded, cfg)
		fmt.Fprintf(e.stdout, "%s: ok (%s)\n", f, summary(cfg))
		if c.Print {
			y, err := cfg.YAML()
			if err != nil {
				return fail(exitFailed, "%s: rendering the effective configuration: %v", f, err)
			}
			fmt.Fprintf(e.stdout, "%s\n", strings.TrimRight(string(y), "\n"))
		}
	}
	if bad > 0 {
		return fail(exitFailed, "%d of %d files invalid", bad, len(c.Files))
	}
	if err := config.CrossCheck(loaded); err != nil {
		fmt.Fprintln(e.stderr, err)
		return fail(exitFailed, "the files do not agree (%d problems)", len(err.(config.Errors)))
	}
	if len(loaded) > 1 {
		fmt.Fprintf(e.stdout, "%d files agree: config fingerprint %s\n", len(loaded), loaded[0].Agreement().Sum)
	}
	return nil
}

// summary is the one-line identity of a config: who, what, which set, how many sidecars vote.
func summary(cfg *config.Config) string {
	arbiters := len(cfg.Members) - len(cfg.DataMembers())
	members := fmt.Sprintf("%d members", len(cfg.Members))
	if arbiters > 0 {
		members = fmt.Sprintf("%d members (%d data, %d arbiter)", len(cfg.Members), len(cfg.DataMembers()), arbiters)
	}
	return fmt.Sprintf("id %s, mode %s, set %s, %s, quorum %d", cfg.ID, cfg.Mode, cfg.ReplicaSet, members, cfg.Quorum())
}
