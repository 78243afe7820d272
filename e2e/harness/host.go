package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Host is one machine of the test deployment: a loopback address 127.0.0.N with its own mongod
// (real or emulated) and, later, sidecars. All of its processes share one cgroup, so a partition
// of the address partitions all of them.
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
	params      map[string]string
	cg          *hostCgroup
	timeline    *Timeline
	proc        *Proc

	mu       sync.Mutex
	handed   bool // HandOver: another process (a sidecar's exec controller) runs the mongod
	sidecars []*Proc
	admin    *mongo.Client
	sec      *clusterSecurity // Options.Security (security.go); nil for an open set
	keyFile  string           // overrides the cluster's key file (SetKeyFile)
}

// HostPort is "127.0.0.N:port", the member name used in the replica-set config.
func (h *Host) HostPort() string { return net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)) }

// String names the host in messages.
func (h *Host) String() string { return h.HostPort() }

// URI is a direct-connection URI for this mongod alone.
func (h *Host) URI() string {
	return "mongodb://" + h.HostPort() + "/?directConnection=true"
}

// Proc is the mongod process.
func (h *Host) Proc() *Proc { return h.proc }

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
	names := make([]string, 0, len(h.params))
	for k := range h.params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "--setParameter", k+"="+h.params[k])
	}
	return append(args, h.securityArgs()...)
}

func (h *Host) mark(format string, args ...any) {
	if h.timeline != nil {
		h.timeline.Mark("%s: %s", h.HostPort(), fmt.Sprintf(format, args...))
	}
}

// Start starts mongod and waits until it accepts connections (bounded by ctx, or 30s when ctx
// has no deadline). It fails early with the log tail if the process exits.
func (h *Host) Start(ctx context.Context) error {
	if err := os.MkdirAll(h.DBPath, 0o755); err != nil {
		return err
	}
	if err := h.proc.start(); err != nil {
		return err
	}
	h.mark("started mongod (pid %d)", h.proc.Pid())
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	done := h.proc.Done()
	err := Poll(ctx, time.Hour, func(ctx context.Context) error {
		select {
		case <-done:
			return errExited
		default:
		}
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		c, err := d.DialContext(ctx, "tcp", h.HostPort())
		if err != nil {
			return err
		}
		return c.Close()
	})
	if errors.Is(err, errExited) {
		return fmt.Errorf("%s exited during startup (%s):\n%s", h, h.proc.ExitState(), h.LogTail(20))
	}
	if err != nil {
		return fmt.Errorf("%s not accepting connections: %w", h, err)
	}
	return nil
}

var errExited = errors.New("process exited")

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
// sockets but answers nothing (a hung process). Thaw undoes it; cleanup kills it either way.
func (h *Host) Freeze() error {
	h.mark("SIGSTOP mongod")
	if err := h.proc.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	return h.proc.waitStopped(true)
}

// Thaw SIGCONTs a frozen mongod.
func (h *Host) Thaw() error {
	h.mark("SIGCONT mongod")
	if err := h.proc.Signal(syscall.SIGCONT); err != nil {
		return err
	}
	return h.proc.waitStopped(false)
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
		return err
	}
	return os.MkdirAll(h.DBPath, 0o755)
}

// Running reports whether mongod is running (a frozen mongod is running).
func (h *Host) Running() bool {
	h.mu.Lock()
	handed := h.handed
	h.mu.Unlock()
	if !handed {
		return h.proc.Running()
	}
	c, err := net.DialTimeout("tcp", h.HostPort(), 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// HandOver kills the harness's mongod process and leaves the host's mongod to another process
// with the same command line (Args): a sidecar running it as its child (process.controller
// exec). Running then says whether something accepts connections on the mongod's port.
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

// ClientOptions are the harness's driver options for this host: a direct connection with short
// timeouts so a dead or frozen host fails calls fast.
func (h *Host) ClientOptions() *options.ClientOptions {
	return h.sec.apply(options.Client().ApplyURI(h.URI()).
		SetServerSelectionTimeout(2*time.Second).
		SetConnectTimeout(time.Second).
		SetHeartbeatInterval(500*time.Millisecond).
		SetAppName("rsguard-e2e"), !h.Arbiter)
}

// Client returns a new direct driver client, disconnected when the test ends.
func (h *Host) Client(t testing.TB) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(h.ClientOptions())
	if err != nil {
		t.Fatalf("connect %s: %v", h, err)
	}
	t.Cleanup(func() { disconnect(c) })
	return c
}

func disconnect(c *mongo.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = c.Disconnect(ctx)
}

// Command runs an admin command on this host over the harness's own direct client.
func (h *Host) Command(ctx context.Context, cmd bson.D) (bson.Raw, error) {
	h.mu.Lock()
	if h.admin == nil {
		c, err := mongo.Connect(h.ClientOptions())
		if err != nil {
			h.mu.Unlock()
			return nil, err
		}
		h.admin = c
	}
	c := h.admin
	h.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	return c.Database("admin").RunCommand(ctx, cmd).Raw()
}

// DiskStall makes storage writes block (on) or resume (off) while reads and hello keep working:
// the mongoemuDiskStall fail point {blocked: true} on the emulator, fsyncLock/fsyncUnlock on a
// real mongod (which needs no test commands but, unlike the fail point, nests: each lock needs
// one unlock).
func (h *Host) DiskStall(ctx context.Context, on bool) error {
	var cmd bson.D
	switch {
	case h.Emulated && on:
		cmd = bson.D{{Key: "configureFailPoint", Value: "mongoemuDiskStall"}, {Key: "mode", Value: "alwaysOn"},
			{Key: "data", Value: bson.D{{Key: "blocked", Value: true}}}}
	case h.Emulated:
		cmd = bson.D{{Key: "configureFailPoint", Value: "mongoemuDiskStall"}, {Key: "mode", Value: "off"}}
	case on:
		cmd = bson.D{{Key: "fsync", Value: 1}, {Key: "lock", Value: true}}
	default:
		cmd = bson.D{{Key: "fsyncUnlock", Value: 1}}
	}
	_, err := h.Command(ctx, cmd)
	if err != nil {
		return fmt.Errorf("%s: disk stall %v: %w", h, on, err)
	}
	h.mark("disk stall %v", on)
	return nil
}

// StartSidecar starts another process on this host (e.g. the supervisor), inside the host's
// cgroup so partitions of the host cut it off too. It is killed when the test ends.
func (h *Host) StartSidecar(name, path string, args ...string) (*Proc, error) {
	p := &Proc{
		Name: name, Path: path, Args: args, cg: h.cg,
		StdoutPath: filepath.Join(h.Dir, name+".stdout"),
		StderrPath: filepath.Join(h.Dir, name+".stderr"),
	}
	if err := p.start(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.sidecars = append(h.sidecars, p)
	h.mu.Unlock()
	h.mark("started %s (pid %d)", name, p.Pid())
	return p, nil
}

// LogTail is the last n lines of the mongod log and stderr (stdout only when the log is empty:
// the emulator may mirror its log there) and of every sidecar's stdout/stderr.
func (h *Host) LogTail(n int) string {
	var b strings.Builder
	logTail := tailFile(h.HostPort()+" mongod log", h.LogPath, n)
	b.WriteString(logTail)
	if logTail == "" { // died before opening its log, or logs to stdout only
		b.WriteString(tailFile(h.proc.Name+" stdout", h.proc.StdoutPath, n))
	}
	b.WriteString(tailFile(h.proc.Name+" stderr", h.proc.StderrPath, n))
	h.mu.Lock()
	sidecars := append([]*Proc(nil), h.sidecars...)
	h.mu.Unlock()
	for _, p := range sidecars {
		b.WriteString(p.Tail(n))
	}
	return b.String()
}

// shutdown kills every process of the host and closes its clients (test cleanup).
func (h *Host) shutdown() {
	h.mu.Lock()
	admin, sidecars := h.admin, h.sidecars
	h.admin = nil
	h.mu.Unlock()
	for _, p := range append(sidecars, h.proc) {
		if p.Running() {
			_ = p.Kill()
		}
	}
	if admin != nil { // after the kill: a frozen host would stall endSessions
		disconnect(admin)
	}
	if h.cg != nil {
		_ = h.cg.remove()
	}
}
