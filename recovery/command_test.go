package recovery

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scripts stand in for a user's init scripts: "running" is a marker file.
func scripts(t *testing.T) (CommandOptions, string) {
	t.Helper()
	dir := t.TempDir()
	marker := filepath.Join(dir, "running")
	starts := filepath.Join(dir, "starts")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return CommandOptions{
		Start:      []string{write("start", "touch "+marker+"; echo x >> "+starts)},
		Stop:       []string{write("stop", "rm -f "+marker)},
		Status:     []string{write("status", "test -e "+marker)},
		Poll:       20 * time.Millisecond,
		MinBackoff: 10 * time.Millisecond,
		Timeout:    5 * time.Second,
	}, marker
}

// startCommand starts a CommandController over the test scripts; it returns the marker file.
func startCommand(t *testing.T) (*CommandController, string) {
	t.Helper()
	opts, marker := scripts(t)
	c, err := NewCommandController(slog.New(slog.DiscardHandler), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c, marker
}

func waitFile(t *testing.T, path string, exists bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); (err == nil) == exists {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s exists=%v not reached", path, !exists)
}

func nextExit(t *testing.T, ch <-chan Exit) Exit {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no exit event")
		return Exit{}
	}
}

// Stopped through the scripts, mongod stays down (the fence case, written first).
func TestCommandControllerStopKeepsItDown(t *testing.T) {
	c, marker := startCommand(t)
	ctx := context.Background()
	waitFile(t, marker, true)
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if e := nextExit(t, c.Exits()); !e.Wanted {
		t.Errorf("exit after Stop: %+v, want wanted", e)
	}
	time.Sleep(200 * time.Millisecond) // a negative check: ten polls in which nothing may start it
	if _, err := os.Stat(marker); err == nil {
		t.Error("started again after Stop")
	}
	if p := c.Process(); p.Running || p.RecentExits != 0 {
		t.Errorf("after Stop: %+v", p)
	}
}

// An exit the scripts did not cause is reported within a poll and answered with Start.
func TestCommandControllerRestartsAfterExit(t *testing.T) {
	c, marker := startCommand(t)
	ctx := context.Background()
	defer func() { _ = c.Stop(ctx) }()
	waitFile(t, marker, true)
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	if e := nextExit(t, c.Exits()); e.Wanted || e.Err == nil {
		t.Errorf("crash reported as %+v", e)
	}
	waitFile(t, marker, true)
	if p := c.Process(); p.RecentExits != 1 {
		t.Errorf("after one exit: %+v", p)
	}
}

func TestNewCommandControllerNamesTheMissingCommand(t *testing.T) {
	_, err := NewCommandController(slog.New(slog.DiscardHandler), CommandOptions{Start: []string{"a"}, Stop: []string{"b"}})
	if err == nil || !strings.Contains(err.Error(), "no status command") {
		t.Errorf("err = %v, want it to name the status command", err)
	}
}

// Someone else (a container restart policy, systemd's Restart=) brought mongod back during the
// backoff: the exit is reported, no second start is run.
func TestCommandControllerLeavesAnotherRestartAlone(t *testing.T) {
	opts, marker := scripts(t)
	dir := filepath.Dir(marker)
	// The status script sees mongod gone once, and the "restart policy" brings it back at once.
	status := filepath.Join(dir, "status-with-policy")
	body := "#!/bin/sh\nif test -e " + marker + "; then exit 0; fi\ntest -e " + dir + "/policy && touch " + marker + "\nexit 1\n"
	if err := os.WriteFile(status, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	opts.Status = []string{status}
	c, err := NewCommandController(slog.New(slog.DiscardHandler), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Stop(ctx) }()
	if err := os.WriteFile(filepath.Join(dir, "policy"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	if e := nextExit(t, c.Exits()); e.Wanted || e.Err == nil {
		t.Errorf("exit reported as %+v", e)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !c.Process().Running && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	starts, _ := os.ReadFile(filepath.Join(dir, "starts"))
	if n := strings.Count(string(starts), "x"); n != 1 || !c.Process().Running {
		t.Errorf("%d starts (want 1), process %+v", n, c.Process())
	}
}
