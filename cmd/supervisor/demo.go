package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/rsguard/rsguard/drill/demo"
)

type demoCmd struct {
	Once    bool   `help:"Fail over once, print a summary and exit: 0 when a new primary took writes within 30s and no acknowledged write was lost, else 1."`
	Dir     string `placeholder:"DIR" help:"Directory for data, configs, audit logs and process logs, kept at exit; must be empty or absent (default: a temporary directory, removed at exit unless --keep)."`
	FirstIP int    `name:"first-ip" default:"2" placeholder:"N" help:"Use 127.0.0.N..N+3: three mongods with their sidecars, and an arbiter sidecar. A block in use by another demo or e2e test is skipped."`
	Keep    bool   `help:"Keep the temporary directory at exit."`
}

// exitInterrupted is the shell's code for a SIGINT death: --once did not get to its verdict.
const exitInterrupted = 130

// Run starts the demo with this binary as the sidecars' supervisor.
func (c *demoCmd) Run(e *env) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("demo: cannot find this binary to start the sidecars: %w", err)
	}
	err = demo.Run(e.ctx, demo.Options{Out: e.stdout, Once: c.Once, Dir: c.Dir, Keep: c.Keep,
		FirstIP: c.FirstIP, Supervisor: exe})
	var de *demo.Error
	if !errors.As(err, &de) {
		return err
	}
	switch de.Kind {
	case demo.Usage:
		return fail(exitUsage, "%s", de.Msg)
	case demo.Interrupted:
		return fail(exitInterrupted, "%s", de.Msg)
	default:
		return fail(exitFailed, "%s", de.Msg)
	}
}
