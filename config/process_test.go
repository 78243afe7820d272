package config

import (
	"strings"
	"testing"
	"time"
)

func TestProcessDefaultsToNone(t *testing.T) {
	c := mustParse(t, baseYAML, newFakeSys())
	if c.Process.Controller != ControllerNone || c.Process.Owned() {
		t.Errorf("controller %q (owned %v), want none", c.Process.Controller, c.Process.Owned())
	}
	if c.Process.MinBackoff != DefaultProcessMinBackoff || c.Process.StopTimeout != DefaultProcessStopTimeout {
		t.Errorf("defaults: %+v", c.Process)
	}
}

func TestProcessExecParses(t *testing.T) {
	text := baseYAML + "process:\n  controller: exec\n  max_backoff: 5s\n  exec:\n    path: /usr/bin/mongod\n    args: [--port, \"27017\", --replSet, rs0]\n    env: [TZ=UTC]\n"
	c := mustParse(t, text, newFakeSys())
	p := c.Process
	if !p.Owned() || p.Exec == nil || p.Exec.Path != "/usr/bin/mongod" || len(p.Exec.Args) != 4 || p.MaxBackoff != 5*time.Second {
		t.Errorf("parsed %+v exec %+v", p, p.Exec)
	}
}

func TestProcessCommandDefaults(t *testing.T) {
	text := baseYAML + "process:\n  controller: command\n  command:\n    start: [systemctl, start, mongod]\n    stop: [systemctl, stop, mongod]\n    status: [systemctl, is-active, mongod]\n"
	c := mustParse(t, text, newFakeSys())
	if cmd := c.Process.Command; cmd == nil || cmd.Timeout != DefaultCommandTimeout || cmd.Poll != DefaultCommandPoll {
		t.Errorf("command %+v", cmd)
	}
}

func TestProcessSystemdParses(t *testing.T) {
	c := mustParse(t, baseYAML+"process:\n  controller: systemd\n  systemd:\n    unit: mongod.service\n", newFakeSys())
	if sd := c.Process.Systemd; sd == nil || sd.Unit != "mongod.service" || sd.Systemctl != "systemctl" || sd.Poll != DefaultCommandPoll || !c.Process.Owned() {
		t.Errorf("systemd %+v", sd)
	}
	_, err := parseText(baseYAML+"process:\n  controller: systemd\n", newFakeSys())
	if err == nil || !strings.Contains(err.Error(), "process.systemd: ") {
		t.Errorf("without a section: %v", err)
	}
}

// Bad process sections fail with the key and what is wrong.
func TestProcessErrors(t *testing.T) {
	for _, tc := range []struct {
		name, section, key, msg string
	}{
		{"unknown controller", "  controller: docker\n", "process.controller", `"none", "exec", "command" or "systemd"`},
		{"exec without section", "  controller: exec\n", "process.exec", "section is required"},
		{"relative path", "  controller: exec\n  exec:\n    path: bin/mongod\n", "process.exec.path", "absolute path"},
		{"bad env", "  controller: exec\n  exec:\n    path: /usr/bin/mongod\n    env: [NOEQUALS]\n", "process.exec.env", "NAME=value"},
		{"exec section with command", "  controller: command\n  exec:\n    path: /usr/bin/mongod\n  command:\n    start: [a]\n    stop: [b]\n    status: [c]\n", "process.exec", "only with process.controller: exec"},
		{"command missing status", "  controller: command\n  command:\n    start: [a]\n    stop: [b]\n", "process.command.status", "is required"},
		{"backoff order", "  max_backoff: 100ms\n  min_backoff: 1s\n", "process.max_backoff", "at least process.min_backoff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseText(baseYAML+"process:\n"+tc.section, newFakeSys())
			if err == nil || !strings.Contains(err.Error(), tc.key+": ") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, want %s: ...%s", err, tc.key, tc.msg)
			}
		})
	}
}

func TestProcessControllerForbiddenForArbiter(t *testing.T) {
	text := applyEdits(t, peerYAML(t), edit{"log:\n", "process:\n  controller: exec\n  exec:\n    path: /usr/bin/mongod\nlog:\n"})
	_, err := parseText(text, newFakeSys())
	if err == nil || !strings.Contains(err.Error(), "process.controller: ") || !strings.Contains(err.Error(), "mode arbiter") {
		t.Errorf("got %v", err)
	}
}
