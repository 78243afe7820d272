package config

import "time"

// ProcessController names who starts and stops the local mongod.
type ProcessController string

const (
	// ControllerNone: mongod is started by someone else (an init system, a container runtime);
	// the sidecar only watches it, and fencing is a shutdown command.
	ControllerNone ProcessController = "none"
	// ControllerExec: the sidecar runs mongod as its child (recovery.ExecController).
	ControllerExec ProcessController = "exec"
	// ControllerCommand: the sidecar runs the user's start/stop/status scripts
	// (recovery.CommandController).
	ControllerCommand ProcessController = "command"
	// ControllerSystemd: the sidecar drives a systemd unit (recovery.SystemdController).
	ControllerSystemd ProcessController = "systemd"
)

// Process lets a data sidecar own its mongod: restart it after a crash, with backoff, and keep it
// down once fenced. Not reloadable.
type Process struct {
	// Controller is who starts the local mongod: none (an init system does; fencing is shutdown
	// {force}), exec (mongod is this sidecar's child), command (the user's scripts) or systemd (a
	// unit). Must be none in mode arbiter. With the others the sidecar restarts mongod after a crash,
	// and a fenced mongod stays down until recovery starts it.
	Controller ProcessController `yaml:"controller" json:"controller"`
	// Exec is mongod's command line, with controller exec only.
	Exec *ProcessExec `yaml:"exec,omitempty" json:"exec,omitempty"`
	// Command are the start, stop and status scripts, with controller command only.
	Command *ProcessCommand `yaml:"command,omitempty" json:"command,omitempty"`
	// Systemd names the unit, with controller systemd only.
	Systemd *ProcessSystemd `yaml:"systemd,omitempty" json:"systemd,omitempty"`
	// MinBackoff and MaxBackoff bound the wait before a restart after a crash: it doubles with
	// every exit within CrashWindow.
	MinBackoff time.Duration `yaml:"min_backoff" json:"min_backoff"`
	// MaxBackoff caps the wait before a restart, at least min_backoff.
	MaxBackoff time.Duration `yaml:"max_backoff" json:"max_backoff"`
	// CrashWindow: exits within this window of each other count as a crash loop and double the
	// backoff, 1s..24h.
	CrashWindow time.Duration `yaml:"crash_window" json:"crash_window"`
	// StopTimeout: how long a stop waits for a clean shutdown before it kills.
	StopTimeout time.Duration `yaml:"stop_timeout" json:"stop_timeout"`
}

// ProcessExec is the mongod command line of the exec controller.
type ProcessExec struct {
	// Path is the mongod binary, absolute.
	Path string `yaml:"path" json:"path"`
	// Args are mongod's arguments (--port, --dbpath, --replSet...); recovery.dbpath defaults to the
	// --dbpath given here.
	Args []string `yaml:"args" json:"args"`
	// Dir is mongod's working directory.
	Dir string `yaml:"dir,omitempty" json:"dir,omitempty"`
	// Env are NAME=value entries added to mongod's environment.
	Env []string `yaml:"env,omitempty" json:"env,omitempty"`
	// Output is a file that receives mongod's stdout and stderr (appended); empty: discarded.
	Output string `yaml:"output,omitempty" json:"output,omitempty"`
}

// Arg is the value of a mongod flag in Args ("--flag value" or "--flag=value"), "" if absent.
func (e ProcessExec) Arg(flag string) string { return argValue(e.Args, flag) }

// ProcessCommand are the scripts of the command controller; status exits 0 while mongod runs.
type ProcessCommand struct {
	// Start is the command line that starts mongod, as a list.
	Start []string `yaml:"start" json:"start"`
	// Stop is the command line that stops mongod, as a list.
	Stop []string `yaml:"stop" json:"stop"`
	// Status is the command line that exits 0 while mongod runs, as a list.
	Status []string `yaml:"status" json:"status"`
	// Timeout bounds each script run, 100ms..1h.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// Poll is how often status runs, 100ms..1m.
	Poll time.Duration `yaml:"poll" json:"poll"`
}

// ProcessSystemd is the unit the systemd controller drives.
type ProcessSystemd struct {
	// Unit is the mongod unit, such as mongod.service.
	Unit string `yaml:"unit" json:"unit"`
	// Systemctl is the systemctl binary, looked up in PATH by default.
	Systemctl string `yaml:"systemctl" json:"systemctl"`
	// Journalctl is the journalctl binary the controller reads mongod's last words with.
	Journalctl string `yaml:"journalctl" json:"journalctl"`
	// Timeout bounds each systemctl call, 100ms..1h.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// Poll is how often the unit's state is read, 100ms..1m.
	Poll time.Duration `yaml:"poll" json:"poll"`
}

func (p *ProcessSystemd) setDefaults() {
	p.Systemctl, p.Journalctl, p.Timeout, p.Poll = "systemctl", "journalctl", DefaultCommandTimeout, DefaultCommandPoll
}

// Process defaults.
const (
	DefaultProcessMinBackoff  = 500 * time.Millisecond
	DefaultProcessMaxBackoff  = 30 * time.Second
	DefaultProcessCrashWindow = 5 * time.Minute
	DefaultProcessStopTimeout = 60 * time.Second
	DefaultCommandTimeout     = 30 * time.Second
	DefaultCommandPoll        = time.Second
)

func (p *ProcessCommand) setDefaults() {
	p.Timeout, p.Poll = DefaultCommandTimeout, DefaultCommandPoll
}

// Owned reports whether the sidecar starts and stops its mongod.
func (p Process) Owned() bool {
	return p.Controller == ControllerExec || p.Controller == ControllerCommand || p.Controller == ControllerSystemd
}
