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

// Process lets a data sidecar own its mongod (the recovery issue, deliverable 1): restart it after
// a crash, with backoff, and keep it down once fenced.
type Process struct {
	Controller ProcessController `yaml:"controller" json:"controller"`
	Exec       *ProcessExec      `yaml:"exec,omitempty" json:"exec,omitempty"`
	Command    *ProcessCommand   `yaml:"command,omitempty" json:"command,omitempty"`
	Systemd    *ProcessSystemd   `yaml:"systemd,omitempty" json:"systemd,omitempty"`
	// MinBackoff and MaxBackoff bound the wait before a restart after a crash: it doubles with
	// every exit within CrashWindow.
	MinBackoff  time.Duration `yaml:"min_backoff" json:"min_backoff"`
	MaxBackoff  time.Duration `yaml:"max_backoff" json:"max_backoff"`
	CrashWindow time.Duration `yaml:"crash_window" json:"crash_window"`
	// StopTimeout: how long a stop waits for a clean shutdown before it kills.
	StopTimeout time.Duration `yaml:"stop_timeout" json:"stop_timeout"`
}

// ProcessExec is the mongod command line of the exec controller.
type ProcessExec struct {
	Path string   `yaml:"path" json:"path"`
	Args []string `yaml:"args" json:"args"`
	Dir  string   `yaml:"dir,omitempty" json:"dir,omitempty"`
	Env  []string `yaml:"env,omitempty" json:"env,omitempty"`
	// Output is a file that receives mongod's stdout and stderr (appended); empty: discarded.
	Output string `yaml:"output,omitempty" json:"output,omitempty"`
}

// Arg is the value of a mongod flag in Args ("--flag value" or "--flag=value"), "" if absent.
func (e ProcessExec) Arg(flag string) string { return argValue(e.Args, flag) }

// ProcessCommand are the scripts of the command controller; status exits 0 while mongod runs.
type ProcessCommand struct {
	Start   []string      `yaml:"start" json:"start"`
	Stop    []string      `yaml:"stop" json:"stop"`
	Status  []string      `yaml:"status" json:"status"`
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	Poll    time.Duration `yaml:"poll" json:"poll"`
}

// ProcessSystemd is the unit the systemd controller drives.
type ProcessSystemd struct {
	Unit       string        `yaml:"unit" json:"unit"`
	Systemctl  string        `yaml:"systemctl" json:"systemctl"`
	Journalctl string        `yaml:"journalctl" json:"journalctl"`
	Timeout    time.Duration `yaml:"timeout" json:"timeout"`
	Poll       time.Duration `yaml:"poll" json:"poll"`
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
