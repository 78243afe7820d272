package mongoemu

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// The conformance tests run the real cmd/mongoemu binary as a separate process, the way the e2e
// harness and the demo do, and check what a mongod operator would: CRUD through the official
// driver, crash safety across SIGKILL, the dbpath lock, signals and exit codes.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// mongoemuBinary builds cmd/mongoemu once per test process.
func mongoemuBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the mongoemu binary")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mongoemu-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "mongoemu")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/rsguard/rsguard/cmd/mongoemu").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is one running mongoemu process.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout []string
	stderr strings.Builder
	port   chan int
	exited chan struct{}
	code   int
}

// startProc runs the binary with args; it does not wait for it to listen (see addr).
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(mongoemuBinary(t), args...), port: make(chan int, 1), exited: make(chan struct{})}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &lockedWriter{mu: &p.mu, b: &p.stderr}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.scan(out)
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(b)
}

// scan collects stdout (mongod's JSON log lines) and learns the port from "Waiting for
// connections" (id 23016), so tests can pass --port 0 without racing for a free port.
func (p *proc) scan(out interface{ Read([]byte) (int, error) }) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.stdout = append(p.stdout, line)
		p.mu.Unlock()
		var ev struct {
			ID   int `json:"id"`
			Attr struct {
				Port int `json:"port"`
			} `json:"attr"`
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.ID == 23016 {
			p.port <- ev.Attr.Port
		}
	}
	err := p.cmd.Wait()
	p.code = p.cmd.ProcessState.ExitCode()
	if err != nil && p.code == -1 {
		p.code = -int(p.cmd.ProcessState.Sys().(syscall.WaitStatus).Signal())
	}
	close(p.exited)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.stdout, "\n") + "\n" + p.stderr.String()
}

// addr waits for the process to listen and returns 127.0.0.1:port.
func (p *proc) addr(t *testing.T) string {
	t.Helper()
	select {
	case port := <-p.port:
		return fmt.Sprintf("127.0.0.1:%d", port)
	case <-p.exited:
		t.Fatalf("mongoemu exited with %d before listening:\n%s", p.code, p.output())
	case <-time.After(20 * time.Second):
		t.Fatalf("mongoemu did not listen:\n%s", p.output())
	}
	return ""
}

// wait returns the exit code, failing the test if the process does not exit in time.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(30 * time.Second):
		t.Fatalf("mongoemu did not exit:\n%s", p.output())
	}
	return 0
}

func connect(t *testing.T, addr string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + addr + "/?directConnection=true&serverSelectionTimeoutMS=5000"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return c
}

func TestConformanceCRUDSurvivesSIGKILL(t *testing.T) {
	dbpath := t.TempDir()
	p := startProc(t, "--port", "0", "--dbpath", dbpath)
	c := connect(t, p.addr(t))
	ctx := testCtx(t)
	coll := c.Database("app").Collection("orders", options.Collection().SetWriteConcern(writeconcern.Journaled()))
	docs := []any{bson.D{{Key: "_id", Value: 1}, {Key: "item", Value: "a"}}, bson.D{{Key: "_id", Value: 2}, {Key: "item", Value: "b"}}}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatalf("insert: %v", err)
	}
	if n, err := coll.CountDocuments(ctx, bson.D{}); err != nil || n != 2 {
		t.Fatalf("count before kill: %d %v", n, err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t)

	p2 := startProc(t, "--port", "0", "--dbpath", dbpath)
	c2 := connect(t, p2.addr(t))
	var got bson.M
	if err := c2.Database("app").Collection("orders").FindOne(ctx, bson.D{{Key: "_id", Value: 2}}).Decode(&got); err != nil {
		t.Fatalf("find after restart: %v", err)
	}
	if got["item"] != "b" {
		t.Fatalf("document after restart: %v", got)
	}
	if n, err := c2.Database("app").Collection("orders").CountDocuments(ctx, bson.D{}); err != nil || n != 2 {
		t.Fatalf("count after restart: %d %v", n, err)
	}
}

func TestConformanceDBPathLockedExit100(t *testing.T) {
	dbpath := t.TempDir()
	first := startProc(t, "--port", "0", "--dbpath", dbpath)
	first.addr(t)
	second := startProc(t, "--port", "0", "--dbpath", dbpath)
	if code := second.wait(t); code != 100 {
		t.Fatalf("second process on a locked dbpath exited %d, want 100:\n%s", code, second.output())
	}
	if out := second.output(); !strings.Contains(out, "Unable to lock the lock file") {
		t.Fatalf("no lock error logged:\n%s", out)
	}
}

func TestConformanceCommandLineRefusals(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--foo"}, 2, "Error parsing command line: unrecognised option '--foo'"},
		{[]string{"--fork", "--dbpath", t.TempDir()}, 2, "--fork is not supported by mongoemu"},
		{[]string{"--port", "0", "--dbpath", filepath.Join(t.TempDir(), "missing")}, 100, "Create the missing directory"},
	}
	for _, tc := range tests {
		p := startProc(t, tc.args...)
		if code := p.wait(t); code != tc.code || !strings.Contains(p.output(), tc.want) {
			t.Errorf("mongoemu %q: exit %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.want, p.output())
		}
	}
}

// TestConformanceSIGTERMAndShutdownCommand: both stop cleanly with exit code 0 and release the
// dbpath (an empty mongod.lock, like mongod).
func TestConformanceSIGTERMAndShutdownCommand(t *testing.T) {
	dbpath := t.TempDir()
	logpath := filepath.Join(t.TempDir(), "mongod.log")
	p := startProc(t, "--port", "0", "--dbpath", dbpath, "--logpath", logpath, "--setParameter", "enableTestCommands=1")
	port := 0
	eventually(t, 20*time.Second, "the log file to show the port", func() bool {
		b, _ := os.ReadFile(logpath)
		for _, line := range strings.Split(string(b), "\n") {
			var ev struct {
				ID   int            `json:"id"`
				Attr map[string]any `json:"attr"`
			}
			if json.Unmarshal([]byte(line), &ev) == nil && ev.ID == 23016 {
				port = int(ev.Attr["port"].(float64))
			}
		}
		return port != 0
	})
	c := connect(t, fmt.Sprintf("127.0.0.1:%d", port))
	if err := ping(testCtx(t), c); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Fatalf("SIGTERM exit code %d:\n%s", code, p.output())
	}
	if b, _ := os.ReadFile(filepath.Join(dbpath, "mongod.lock")); len(b) != 0 {
		t.Fatalf("mongod.lock not emptied: %q", b)
	}
	if b, _ := os.ReadFile(logpath); !strings.Contains(string(b), `"msg":"Received signal"`) {
		t.Fatalf("log file lacks the signal: %s", b)
	}

	p2 := startProc(t, "--port", "0", "--dbpath", dbpath)
	c2 := connect(t, p2.addr(t))
	err := c2.Database("admin").RunCommand(testCtx(t), bson.D{{Key: "shutdown", Value: 1}}).Err()
	if !mongo.IsNetworkError(err) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown command: want the connection to drop, got %v", err)
	}
	if code := p2.wait(t); code != 0 {
		t.Fatalf("shutdown command exit code %d:\n%s", code, p2.output())
	}
}
