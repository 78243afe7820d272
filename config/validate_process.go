package config

import (
	"strings"
	"time"
)

// validateProcess checks the process section: a controller only in data mode, and exactly the
// subsection the controller reads.
func validateProcess(k checker, c *Config) {
	p := &c.Process
	if !k.enum("process.controller", string(p.Controller), string(ControllerNone), string(ControllerExec), string(ControllerCommand), string(ControllerSystemd)) {
		return
	}
	if c.Mode == ModeArbiter && p.Controller != ControllerNone {
		k.errf("process.controller", "must be %q in mode arbiter: an arbiter sidecar has no local mongod, got %q", ControllerNone, p.Controller)
		return
	}
	if p.Exec != nil && p.Controller != ControllerExec {
		k.errf("process.exec", "is read only with process.controller: exec (controller is %q)", p.Controller)
	}
	if p.Command != nil && p.Controller != ControllerCommand {
		k.errf("process.command", "is read only with process.controller: command (controller is %q)", p.Controller)
	}
	if p.Systemd != nil && p.Controller != ControllerSystemd {
		k.errf("process.systemd", "is read only with process.controller: systemd (controller is %q)", p.Controller)
	}
	if k.durRange("process.min_backoff", p.MinBackoff, 10*time.Millisecond, time.Hour) &&
		k.durRange("process.max_backoff", p.MaxBackoff, 10*time.Millisecond, time.Hour) && p.MaxBackoff < p.MinBackoff {
		k.errf("process.max_backoff", "must be at least process.min_backoff (%s), got %q", fmtDur(p.MinBackoff), fmtDur(p.MaxBackoff))
	}
	k.durRange("process.crash_window", p.CrashWindow, time.Second, 24*time.Hour)
	k.durRange("process.stop_timeout", p.StopTimeout, time.Second, time.Hour)
	switch p.Controller {
	case ControllerExec:
		e := p.Exec
		if e == nil {
			k.errf("process.exec", "section is required with process.controller: exec: it holds mongod's path and args")
			return
		}
		if k.required("process.exec.path", e.Path, "the mongod binary, e.g. /usr/bin/mongod") && !strings.HasPrefix(e.Path, "/") {
			k.errf("process.exec.path", "must be an absolute path, got %s", quote(e.Path))
		}
		for _, kv := range e.Env {
			if name, _, ok := strings.Cut(kv, "="); !ok || !isEnvName(name) {
				k.errf("process.exec.env", "entries must be NAME=value, got %s", quote(kv))
			}
		}
	case ControllerCommand:
		cmd := p.Command
		if cmd == nil {
			k.errf("process.command", "section is required with process.controller: command: it holds the start, stop and status scripts")
			return
		}
		for _, s := range []struct {
			key  string
			argv []string
		}{{"process.command.start", cmd.Start}, {"process.command.stop", cmd.Stop}, {"process.command.status", cmd.Status}} {
			if len(s.argv) == 0 || s.argv[0] == "" {
				k.errf(s.key, "is required: a command line as a list, e.g. [systemctl, start, mongod]")
			}
		}
		k.durRange("process.command.timeout", cmd.Timeout, 100*time.Millisecond, time.Hour)
		k.durRange("process.command.poll", cmd.Poll, 100*time.Millisecond, time.Minute)
	case ControllerSystemd:
		sd := p.Systemd
		if sd == nil {
			k.errf("process.systemd", "section is required with process.controller: systemd: it names the unit, e.g. unit: mongod.service")
			return
		}
		k.required("process.systemd.unit", sd.Unit, "the mongod unit, e.g. mongod.service")
		k.durRange("process.systemd.timeout", sd.Timeout, 100*time.Millisecond, time.Hour)
		k.durRange("process.systemd.poll", sd.Poll, 100*time.Millisecond, time.Minute)
	}
}
