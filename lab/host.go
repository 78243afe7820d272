package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rsguard/rsguard/mongo"
)

// HostOptions describe one host: a leased loopback address with its mongod (run by the lab, or
// by a sidecar: External) and any sidecars.
type HostOptions struct {
	N       int    // loopback index: the address is 127.0.0.N
	Port    int    // mongod port (0: MongodPort if free, else a free one)
	Dir     string // the host's directory: dbpath, logs, stdout/stderr files
	ReplSet string
	Arbiter bool
	// Mongod is the server binary; Emulated says it is mongoemu.
	Mongod   string
	Emulated bool
	// OplogSizeMB is passed as --oplogSizeMB when > 0; Params as --setParameter name=value.
	OplogSizeMB int
	Params      map[string]string
	// External: the mongod is run by another process with Args (a sidecar's exec controller);
	// the host never starts it, and Running dials its port.
	External bool
	// ConnectTimeout bounds the host's admin client's dial (default 1s); AppName names it.
	ConnectTimeout time.Duration
	AppName        string
	Timeline       *Timeline
	security       *security
}

// Host is one machine of a lab: a loopback address 127.0.0.N with its own mongod (real or
// emulated) and sidecars. All of its processes share one cgroup (as root with cgroup v2), so a
// partition of the address partitions all of them. Close kills them all.
type Host struct {
	N       int    // loopback index
	Addr    string // "127.0.0.N"
	Port    int    // mongod port
	Dir     string // the host's directory: dbpath, logs, stdout/stderr files
	DBPath  string
	LogPath string // mongod --logpath
	ReplSet string
	Arbiter bool
	// Emulated is true when the server is mongoemu (emulator-only features work).
	Emulated bool
	// StopTimeout bounds Stop before it falls back to SIGKILL (default 60s: a signalled mongod
	// may quiesce for shutdownTimeoutMillisForSignaledShutdown, 15s by default).
	StopTimeout time.Duration

	bin         string
	oplogSizeMB int
	connTimeout time.Duration
	appName     string
	cg          *hostCgroup
	timeline    *Timeline
	proc        *Proc
	log         *slog.Logger

	mu       sync.Mutex
	params   map[string]string
	handed   bool // another process (a sidecar's exec controller) runs the mongod
	sidecars []*Proc
	node     *mongo.DriverNode
	sec      *security // Options.Security; nil for an open set
	keyFile  string    // overrides the cluster's key file (SetKeyFile)
	closed   bool
}

// NewHost prepares a host (its directory and cgroup; a leftover process in the cgroup from a
// dead run is killed, since the caller holds the address's lease). Nothing is started.
func NewHost(log *slog.Logger, o HostOptions) (*Host, error) {
	if o.N < MinN || o.N > MaxN {
		return nil, fmt.Errorf("host: N %d outside %d..%d", o.N, MinN, MaxN)
	}
	if o.Dir == "" {
		return nil, fmt.Errorf("host 127.0.0.%d: no directory", o.N)
	}
	addr := fmt.Sprintf("127.0.0.%d", o.N)
	if o.Port == 0 {
		p, err := FreePort(addr, MongodPort, false)
		if err != nil {
			return nil, err
		}
		o.Port = p
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = time.Second
	}
	if o.AppName == "" {
		o.AppName = "rsguard-lab"
	}
	// The dbpath exists from the start: a sidecar may start the mongod before the lab does.
	if err := os.MkdirAll(filepath.Join(o.Dir, "db"), 0o755); err != nil {
		return nil, fmt.Errorf("host %s: %w", addr, err)
	}
	cg, err := openHostCgroup(addr)
	if err != nil {
		return nil, err
	}
	h := &Host{
		N: o.N, Addr: addr, Port: o.Port, Dir: o.Dir,
		DBPath: filepath.Join(o.Dir, "db"), LogPath: filepath.Join(o.Dir, "mongod.log"),
		ReplSet: o.ReplSet, Arbiter: o.Arbiter, Emulated: o.Emulated,
		bin: o.Mongod, oplogSizeMB: o.OplogSizeMB, params: maps.Clone(o.Params),
		connTimeout: o.ConnectTimeout, appName: o.AppName,
		cg: cg, timeline: o.Timeline, sec: o.security, handed: o.External, log: log,
	}
	h.proc = &Proc{Name: "mongod", Path: h.bin, Args: h.Args(), cg: cg,
		StdoutPath: filepath.Join(o.Dir, "mongod.stdout"), StderrPath: filepath.Join(o.Dir, "mongod.stderr")}
	return h, nil
}

// HostPort is "127.0.0.N:port", the member name used in the replica-set config.
func (h *Host) HostPort() string { return net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)) }

// String names the host in messages.
func (h *Host) String() string { return h.HostPort() }

// URI is a direct-connection URI for this mongod alone.
func (h *Host) URI() string { return "mongodb://" + h.HostPort() + "/?directConnection=true" }

// Proc is the mongod process (not started when External).
func (h *Host) Proc() *Proc { return h.proc }

// Mongod is the server binary.
func (h *Host) Mongod() string { return h.bin }

// Args is the mongod command line (without the program).
func (h *Host) Args() []string {
	args := []string{
		"--port", strconv.Itoa(h.Port), "--bind_ip", h.Addr, "--dbpath", h.DBPath,
		"--logpath", h.LogPath, "--logappend", "--nounixsocket",
	}
	if h.ReplSet != "" {
		args = append(args, "--replSet", h.ReplSet)
	}
	if h.oplogSizeMB > 0 {
		args = append(args, "--oplogSizeMB", strconv.Itoa(h.oplogSizeMB))
	}
	h.mu.Lock()
	params := maps.Clone(h.params)
	h.mu.Unlock()
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "--setParameter", k+"="+params[k])
	}
	return append(args, h.securityArgs()...)
}

func (h *Host) mark(format string, args ...any) {
	if h.timeline != nil {
		h.timeline.Mark("%s: %s", h.HostPort(), fmt.Sprintf(format, args...))
	}
}

// ErrExited says a process exited while it was awaited.
var ErrExited = errors.New("process exited")

// Start starts mongod and waits until it accepts connections (bounded by ctx, or 30s when ctx
// has no deadline). It fails early with the log tail if the process exits.
func (h *Host) Start(ctx context.Context) error {
	if h.isHanded() {
		return fmt.Errorf("%s: mongod is run by another process (External/HandOver)", h)
	}
	if err := os.MkdirAll(h.DBPath, 0o755); err != nil {
		return fmt.Errorf("%s: %w", h, err)
	}
	if err := h.proc.Start(); err != nil {
		return err
	}
	h.mark("started mongod (pid %d)", h.proc.Pid())
	err := h.WaitListening(ctx, h.proc.Done())
	if errors.Is(err, ErrExited) {
		return fmt.Errorf("%s exited during startup (%s):\n%s", h, h.proc.ExitState(), h.LogTail(20))
	}
	return err
}

// WaitListening waits until the mongod accepts TCP connections (bounded by ctx, or 30s when
// ctx has no deadline); a close of exited (the process that runs it ended) stops the wait with
// an error wrapping ErrExited.
func (h *Host) WaitListening(ctx context.Context, exited <-chan struct{}) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	err := Poll(ctx, time.Hour, func(ctx context.Context) error {
		select {
		case <-exited:
			return Abort(ErrExited)
		default:
		}
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		c, err := d.DialContext(ctx, "tcp", h.HostPort())
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil && !errors.Is(err, ErrExited) {
		return fmt.Errorf("%s not accepting connections: %w", h, err)
	}
	return err
}

// Kill SIGKILLs mongod (a crash: no stepdown, no clean shutdown).
func (h *Host) Kill() error {
	h.mark("SIGKILL mongod")
	return h.proc.Kill()
}

// Stop sends SIGTERM and waits for mongod's own shutdown (stepdown, quiesce), up to StopTimeout.
func (h *Host) Stop() error {
	h.mark("SIGTERM mongod")
	timeout := h.StopTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	err := h.proc.Stop(timeout)
	h.mark("mongod exited (%s)", h.proc.ExitState())
	return err
}

// Freeze SIGSTOPs the host's mongod and waits until all its threads have stopped: it keeps its
// sockets but answers nothing (a hung process). Thaw undoes it; Close kills it either way.
func (h *Host) Freeze() error {
	h.mark("SIGSTOP mongod")
	if err := h.proc.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	return h.proc.WaitStopped(context.Background(), true)
}

// Thaw SIGCONTs a frozen mongod.
func (h *Host) Thaw() error {
	h.mark("SIGCONT mongod")
	if err := h.proc.Signal(syscall.SIGCONT); err != nil {
		return err
	}
	return h.proc.WaitStopped(context.Background(), false)
}

// Restart stops mongod cleanly if it runs (Stop) and starts it again on the same dbpath and
// port. For a crash restart call Kill then Start.
func (h *Host) Restart(ctx context.Context) error {
	if h.proc.Running() {
		if err := h.Stop(); err != nil {
			return err
		}
	}
	return h.Start(ctx)
}

// WipeDBPath deletes the data directory (mongod must not be running): the next Start is a
// fresh member that needs an initial sync.
func (h *Host) WipeDBPath() error {
	if h.proc.Running() {
		return fmt.Errorf("%s: wipe dbpath while mongod runs", h)
	}
	h.mark("wiped dbpath")
	if err := os.RemoveAll(h.DBPath); err != nil {
		return fmt.Errorf("%s: wipe dbpath: %w", h, err)
	}
	return os.MkdirAll(h.DBPath, 0o755)
}

func (h *Host) isHanded() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.handed
}

// Running reports whether mongod is running (a frozen mongod is running). For a mongod run by
// another process it says whether something accepts connections on the mongod's port.
func (h *Host) Running() bool {
	if !h.isHanded() {
		return h.proc.Running()
	}
	c, err := net.DialTimeout("tcp", h.HostPort(), 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// HandOver kills the lab's mongod process and leaves the host's mongod to another process with
// the same command line (Args): a sidecar running it as its child (process.controller exec).
func (h *Host) HandOver() error {
	if err := h.Kill(); err != nil {
		return err
	}
	h.mu.Lock()
	h.handed = true
	h.mu.Unlock()
	h.mark("mongod handed over to its sidecar")
	return nil
}

// ExitCode is mongod's last exit code; -1 while running or after a signal.
func (h *Host) ExitCode() int { return h.proc.ExitCode() }

// SetStartupParameter sets (value != "") or removes (value == "") a --setParameter for h's next
// Start, e.g. failpoint.rsSyncApplyStop={"mode":"alwaysOn"} to hold a restarted member in
// RECOVERING as mongod's own tests do. Other hosts are not affected.
func (h *Host) SetStartupParameter(name, value string) {
	h.mu.Lock()
	p := maps.Clone(h.params)
	if p == nil {
		p = map[string]string{}
	}
	if value == "" {
		delete(p, name)
	} else {
		p[name] = value
	}
	h.params = p
	h.mu.Unlock()
	h.proc.Args = h.Args() // the process was built with the command line of the first start
}

// Spawn starts another process on this host (a sidecar, a helper) inside the host's cgroup, so
// partitions of the host cut it off too; Close kills it.
func (h *Host) Spawn(p *Proc) error {
	p.cg = h.cg
	if err := p.Start(); err != nil {
		return err
	}
	h.mu.Lock()
	if !slicesContains(h.sidecars, p) {
		h.sidecars = append(h.sidecars, p)
	}
	h.mu.Unlock()
	h.mark("started %s (pid %d)", p.Name, p.Pid())
	return nil
}

func slicesContains(ps []*Proc, p *Proc) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// StartSidecar starts name (path args...) on this host with Spawn; its stdout and stderr go to
// Dir/name.stdout and Dir/name.stderr.
func (h *Host) StartSidecar(name, path string, args ...string) (*Proc, error) {
	p := &Proc{Name: name, Path: path, Args: args,
		StdoutPath: filepath.Join(h.Dir, name+".stdout"), StderrPath: filepath.Join(h.Dir, name+".stderr")}
	if err := h.Spawn(p); err != nil {
		return nil, err
	}
	return p, nil
}

// LogTail is the last n lines of the mongod log and stderr (stdout only when the log is empty:
// the emulator may mirror its log there) and of every sidecar's output.
func (h *Host) LogTail(n int) string {
	var b strings.Builder
	logTail := TailFile(h.HostPort()+" mongod log", h.LogPath, n)
	b.WriteString(logTail)
	if logTail == "" { // died before opening its log, or logs to stdout only
		b.WriteString(TailFile(h.proc.Name+" stdout", h.proc.StdoutPath, n))
	}
	b.WriteString(TailFile(h.proc.Name+" stderr", h.proc.StderrPath, n))
	h.mu.Lock()
	sidecars := append([]*Proc(nil), h.sidecars...)
	h.mu.Unlock()
	for _, p := range sidecars {
		b.WriteString(p.Tail(n))
	}
	return b.String()
}

// Close kills every process of the host (sidecars first: they may run the mongod), closes its
// client and removes its cgroup. It is idempotent.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	node, sidecars := h.node, h.sidecars
	h.node = nil
	h.mu.Unlock()
	var errs []error
	for _, p := range append(sidecars, h.proc) {
		errs = append(errs, p.Close())
	}
	if node != nil { // after the kill: a frozen host would stall endSessions
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_ = node.Close(ctx)
		cancel()
	}
	if h.cg != nil {
		errs = append(errs, h.cg.remove())
	}
	return errors.Join(errs...)
}
