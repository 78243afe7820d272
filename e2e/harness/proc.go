package harness

import "github.com/rsguard/rsguard/lab"

// Proc is one child process of a host (lab.Proc): its own process group, the host's cgroup, a
// parent-death SIGKILL, stdout and stderr appended to files.
type Proc = lab.Proc

// ErrNotRunning is returned when signalling a process that is not running.
var ErrNotRunning = lab.ErrNotRunning

// MongodPort is the port a host gets when it is free on its address.
const MongodPort = lab.MongodPort
