package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rsguard/rsguard/mongo"
)

// envMongod names a mongod binary (a real one, or a prebuilt mongoemu) for the demo and the e2e
// tests alike.
const envMongod = "RSGUARD_MONGOD"

// findMongod returns the mongod to run: $RSGUARD_MONGOD, else mongoemu next to this binary, else
// mongoemu on PATH, else a mongoemu built from the source checkout the demo runs in.
func findMongod(ctx context.Context, out io.Writer, dir string) (string, error) {
	if p := os.Getenv(envMongod); p != "" {
		if !isExecutable(p) {
			return "", fmt.Errorf("%s=%s is not an executable file", envMongod, p)
		}
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(exe), "mongoemu"); isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("mongoemu"); err == nil {
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("no mongod to run: set %s=/path/to/mongod, put mongoemu on PATH, "+
			"or run the demo from a checkout of rsguard (%w)", envMongod, err)
	}
	bin := filepath.Join(dir, "bin", "mongoemu")
	fmt.Fprintf(out, "building the MongoDB emulator: go build -o %s ./cmd/mongoemu (in %s)\n", bin, root)
	fmt.Fprintf(out, "  (no %s set, no mongoemu next to this binary or on PATH)\n", envMongod)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/mongoemu")
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/mongoemu: %w\n%s", err, strings.TrimSpace(buf.String()))
	}
	fmt.Fprintf(out, "  built in %s\n", time.Since(start).Round(100*time.Millisecond))
	return bin, nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// moduleRoot walks up from the working directory to rsguard's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/rsguard/rsguard\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the working directory is not inside the rsguard module")
		}
		dir = parent
	}
}

// mongodHost is one data-bearing member: a mongod on its own loopback address.
type mongodHost struct {
	addr string // 127.0.0.N
	port int
	dir  string
	bin  string
	args []string          // mongod's command line: its sidecar runs it (process.controller exec)
	node *mongo.DriverNode // direct connection, for hello
}

// dbpath is the mongod's data directory.
func (h *mongodHost) dbpath() string { return filepath.Join(h.dir, "db") }

// outPath receives the mongod's stdout and stderr (process.exec.output).
func (h *mongodHost) outPath() string { return filepath.Join(h.dir, "mongod.out") }

func (h *mongodHost) name() string { return net.JoinHostPort(h.addr, strconv.Itoa(h.port)) }

func newMongodHost(bin, root, addr string, port int) (*mongodHost, error) {
	h := &mongodHost{addr: addr, port: port, dir: filepath.Join(root, addr), bin: bin}
	if err := os.MkdirAll(h.dbpath(), 0o755); err != nil {
		return nil, err
	}
	h.args = []string{"--port", strconv.Itoa(port), "--bind_ip", addr, "--dbpath", h.dbpath(),
		"--logpath", filepath.Join(h.dir, "mongod.log"), "--logappend", "--replSet", demoSet}
	node, err := mongo.Dial(context.Background(), slog.New(slog.DiscardHandler), mongo.Options{
		URI: h.name(), ConnectTimeout: 500 * time.Millisecond, AppName: "rsguard-demo"})
	if err != nil {
		return nil, err
	}
	h.node = node
	return h, nil
}

// waitListening waits until the mongod, started by its sidecar, accepts connections; car is
// the sidecar, whose exit ends the wait with its log tail.
func (h *mongodHost) waitListening(ctx context.Context, car *sidecar) error {
	done := car.proc.exited()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		if c, err := d.DialContext(ctx, "tcp", h.name()); err == nil {
			return c.Close()
		}
		select {
		case <-done:
			return fmt.Errorf("sidecar %s exited before its mongod %s listened; last lines of %s:\n%s", car.id, h.name(), car.proc.logPath, car.proc.tail(15))
		case <-ctx.Done():
			return fmt.Errorf("mongod %s (started by sidecar %s) does not accept connections: %w; see %s and %s", h.name(), car.id, ctx.Err(),
				h.outPath(), filepath.Join(h.dir, "mongod.log"))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// hello asks the mongod directly, with a short deadline.
func (h *mongodHost) hello(ctx context.Context) (mongo.Hello, error) {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	return h.node.Hello(ctx)
}

// freePort returns want when both TCP and UDP are free on addr (memberlist needs both), else a
// port the kernel picks.
func freePort(addr string, want int, udp bool) (int, error) {
	try := func(port int) (int, bool) {
		ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			return 0, false
		}
		defer ln.Close()
		got := ln.Addr().(*net.TCPAddr).Port
		if udp {
			pc, err := net.ListenPacket("udp", net.JoinHostPort(addr, strconv.Itoa(got)))
			if err != nil {
				return 0, false
			}
			_ = pc.Close()
		}
		return got, true
	}
	if p, ok := try(want); ok {
		return p, nil
	}
	for range 20 {
		if p, ok := try(0); ok {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port on %s (is 127.0.0.0/8 routed to lo? Linux does this by default)", addr)
}
