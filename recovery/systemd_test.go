package recovery

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeSystemctl stands in for systemd: the unit's state and its last MainPID are files, every
// call is logged by verb. States: active, inactive, failed (exited 14) and auto-restart
// (systemd's Restart= waiting: the next show finds it active under a new pid).
const fakeSystemctl = `#!/bin/sh
d=DIR
echo "$1" >> "$d/calls"
state=$(cat "$d/state" 2>/dev/null || echo inactive)
pid=$(cat "$d/pid" 2>/dev/null || echo 1000)
case "$1" in
start)
	if [ "$state" != active ]; then echo $((pid+1)) > "$d/pid"; echo active > "$d/state"; fi ;;
stop)
	echo inactive > "$d/state" ;;
show)
	echo "Id=$2"
	printf 'InvocationID=%032d\n' "$pid"
	case "$state" in
	active) printf 'ActiveState=active\nSubState=running\nResult=success\nMainPID=%s\nExecMainCode=0\nExecMainStatus=0\n' "$pid" ;;
	inactive) printf 'ActiveState=inactive\nSubState=dead\nResult=success\nMainPID=0\nExecMainCode=1\nExecMainStatus=0\n' ;;
	failed) printf 'ActiveState=failed\nSubState=failed\nResult=exit-code\nMainPID=0\nExecMainCode=1\nExecMainStatus=14\n' ;;
	auto-restart)
		printf 'ActiveState=activating\nSubState=auto-restart\nResult=exit-code\nMainPID=0\nExecMainCode=1\nExecMainStatus=14\n'
		echo $((pid+1)) > "$d/pid"; echo active > "$d/state" ;;
	esac ;;
*)
	exit 1 ;;
esac
`

type fakeUnit struct {
	t   *testing.T
	dir string
}

func newFakeUnit(t *testing.T) (*fakeUnit, SystemdOptions) {
	t.Helper()
	f := &fakeUnit{t: t, dir: t.TempDir()}
	f.write("systemctl", strings.Replace(fakeSystemctl, "DIR", f.dir, 1), 0o755)
	// The journal of a run is the file journal.<InvocationID> (the pid, zero-padded to 32).
	f.write("journalctl", "#!/bin/sh\ncat \""+f.dir+"/journal.${1#_SYSTEMD_INVOCATION_ID=}\" 2>/dev/null\n", 0o755)
	return f, SystemdOptions{Unit: "mongod.service", Systemctl: filepath.Join(f.dir, "systemctl"),
		Journalctl: filepath.Join(f.dir, "journalctl"), Timeout: 5 * time.Second, Poll: 10 * time.Millisecond,
		MinBackoff: 10 * time.Millisecond}
}

// journal writes the journal of the run with this pid.
func (f *fakeUnit) journal(pid int, lines string) {
	f.write(fmt.Sprintf("journal.%032d", pid), lines, 0o644)
}

func (f *fakeUnit) write(name, body string, mode os.FileMode) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(body), mode); err != nil {
		f.t.Fatal(err)
	}
}

// set writes the unit's state, as a crash or systemd would leave it.
func (f *fakeUnit) set(state string) { f.write("state", state+"\n", 0o644) }

// calls counts the systemctl runs with this verb.
func (f *fakeUnit) calls(verb string) int {
	b, _ := os.ReadFile(filepath.Join(f.dir, "calls"))
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if l == verb {
			n++
		}
	}
	return n
}

// waitPolls waits until the controller's first n polls (after the show of Start) are done: the
// show after them has begun.
func (f *fakeUnit) waitPolls(n int) {
	f.t.Helper()
	waitFor(f.t, "polls", func() bool { return f.calls("show") >= n+2 })
}

// waitFor polls cond with a generous deadline: a liveness bound, never a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not reached: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startSystemd(t *testing.T) (*SystemdController, *fakeUnit) {
	t.Helper()
	f, opts := newFakeUnit(t)
	c, err := NewSystemdController(slog.New(slog.DiscardHandler), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c, f
}

func noExit(t *testing.T, ch <-chan Exit) {
	t.Helper()
	select {
	case e := <-ch:
		t.Errorf("unexpected exit event %+v", e)
	default:
	}
}

// A healthy unit is started once and left alone: no exit, no second start, over several polls.
func TestSystemdControllerHealthyUnitIsLeftAlone(t *testing.T) {
	c, f := startSystemd(t)
	f.waitPolls(5)
	noExit(t, c.Exits())
	if n := f.calls("start"); n != 1 {
		t.Errorf("%d starts of a healthy unit, want 1", n)
	}
	if p := c.Process(); !p.Running || p.Pid != 1001 || p.RecentExits != 0 || p.LastFatal != "" {
		t.Errorf("healthy unit: %+v", p)
	}
}

// Start does not start a unit that runs already (adopting it).
func TestSystemdControllerStartAdoptsARunningUnit(t *testing.T) {
	f, opts := newFakeUnit(t)
	f.set("active")
	c, err := NewSystemdController(slog.New(slog.DiscardHandler), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Stop(context.Background()) }()
	f.waitPolls(3)
	if n := f.calls("start"); n != 0 {
		t.Errorf("%d starts of a running unit, want 0", n)
	}
	if p := c.Process(); !p.Running || p.Pid != 1000 {
		t.Errorf("adopted unit: %+v", p)
	}
}

// After Stop the unit stays down, even when it looks failed: the fence case.
func TestSystemdControllerStopKeepsItDown(t *testing.T) {
	c, f := startSystemd(t)
	f.waitPolls(1)
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e := nextExit(t, c.Exits()); !e.Wanted {
		t.Errorf("exit after Stop: %+v, want wanted", e)
	}
	f.set("failed")
	shows := f.calls("show")
	time.Sleep(20 * 10 * time.Millisecond) // a negative check: twenty polls in which nothing may start it
	if n := f.calls("start"); n != 1 {
		t.Errorf("%d starts, want only the first one", n)
	}
	if n := f.calls("show"); n != shows {
		t.Errorf("still polling after Stop: %d shows, then %d", shows, n)
	}
	noExit(t, c.Exits())
	if p := c.Process(); p.Running || p.Pid != 0 || p.RecentExits != 0 {
		t.Errorf("after Stop: %+v", p)
	}
}

// A fatal line in the journal of an earlier run is not this crash's: LastFatal is the exit status
// (an old UnrecoverableRollbackError would make Classify call for a resync).
func TestSystemdControllerIgnoresAnEarlierRunsJournal(t *testing.T) {
	c, f := startSystemd(t)
	f.waitPolls(1)
	f.journal(1000, "Fatal assertion 40507 UnrecoverableRollbackError: rollback time limit\n")
	f.set("failed")
	nextExit(t, c.Exits())
	if p := c.Process(); p.LastFatal != "main process exited with status 14, Result=exit-code" {
		t.Errorf("LastFatal = %q, want the exit status only", p.LastFatal)
	}
}

// A crash is on Exits within a poll, with how it ended and the journal's fatal line, and
// answered with a start after the backoff.
func TestSystemdControllerRestartsAfterCrash(t *testing.T) {
	c, f := startSystemd(t)
	f.waitPolls(1)
	fatal := `{"t":{"$date":"2026-12-02T17:00:00.000Z"},"s":"F","c":"REPL","id":21238,"msg":"Fatal assertion","attr":{"msgid":40507}}`
	f.journal(1001, "mongod starting\n"+fatal+"\nshutting down\n")
	f.set("failed")
	e := nextExit(t, c.Exits())
	if e.Wanted || e.Err == nil || !strings.Contains(e.Err.Error(), "exited with status 14") {
		t.Errorf("crash reported as %+v", e)
	}
	waitFor(t, "a start after the crash", func() bool { return f.calls("start") == 2 })
	// Pid comes with the first poll after the start.
	waitFor(t, "running again", func() bool { return c.Process().Pid != 0 })
	p := c.Process()
	if p.Pid != 1002 || p.RecentExits != 1 || p.LastFatal != fatal {
		t.Errorf("after one crash: %+v", p)
	}
}

// systemd's Restart= brought the unit back before the backoff ended: the exit is reported, the
// start is not issued.
func TestSystemdControllerLeavesSystemdsRestartAlone(t *testing.T) {
	c, f := startSystemd(t)
	f.waitPolls(1)
	f.set("auto-restart")
	if e := nextExit(t, c.Exits()); e.Wanted || e.Err == nil {
		t.Errorf("crash reported as %+v", e)
	}
	waitFor(t, "running again", func() bool { return c.Process().Running })
	if n := f.calls("start"); n != 1 {
		t.Errorf("%d starts, want 1: systemd had restarted the unit", n)
	}
	if p := c.Process(); p.Pid != 1002 || p.RecentExits != 1 || !strings.Contains(p.LastFatal, "status 14") {
		t.Errorf("after systemd's restart: %+v", p)
	}
}

// A restart systemd made between two polls shows as a new MainPID: an exit, no start.
func TestSystemdControllerCountsARestartBetweenPolls(t *testing.T) {
	c, f := startSystemd(t)
	f.waitPolls(1)
	f.write("pid", "1042\n", 0o644)
	e := nextExit(t, c.Exits())
	if e.Wanted || e.Err == nil || !strings.Contains(e.Err.Error(), "1001 gone") {
		t.Errorf("restart reported as %+v", e)
	}
	waitFor(t, "running again", func() bool { return c.Process().Running })
	if n := f.calls("start"); n != 1 {
		t.Errorf("%d starts, want 1", n)
	}
	if p := c.Process(); p.Pid != 1042 || p.RecentExits != 1 {
		t.Errorf("after the restart: %+v", p)
	}
}

func TestNewSystemdControllerNamesTheBadValue(t *testing.T) {
	f, opts := newFakeUnit(t)
	for _, unit := range []string{"", "mongod", "mongod.socket", "-mongod.service", "mongod@.service", "mongod service; rm -rf /"} {
		o := opts
		o.Unit = unit
		_, err := NewSystemdController(slog.New(slog.DiscardHandler), o)
		if err == nil || !strings.Contains(err.Error(), `unit "`+unit+`"`) {
			t.Errorf("unit %q: err = %v, want it named", unit, err)
		}
	}
	o := opts
	o.Systemctl = filepath.Join(f.dir, "no-systemctl")
	if _, err := NewSystemdController(slog.New(slog.DiscardHandler), o); err == nil || !strings.Contains(err.Error(), o.Systemctl) {
		t.Errorf("missing systemctl: err = %v, want it named", err)
	}
	for _, unit := range []string{"mongod.service", "mongod@rs0.service", "mongodb-27017.service"} {
		o := opts
		o.Unit = unit
		if _, err := NewSystemdController(slog.New(slog.DiscardHandler), o); err != nil {
			t.Errorf("unit %q: %v", unit, err)
		}
	}
}

func TestSystemdUnitStateParsing(t *testing.T) {
	for _, tt := range []struct {
		out     string
		running bool
		ended   string
	}{
		{"MainPID=7\nActiveState=active\nSubState=running\nResult=success\nExecMainCode=0\nExecMainStatus=0\n", true, ""},
		{"ActiveState=reloading\nMainPID=7\n", true, ""},
		{"ActiveState=activating\nSubState=start\n", true, ""},
		{"ActiveState=activating\nSubState=auto-restart\nResult=signal\nExecMainCode=2\nExecMainStatus=9\n", false, "killed by signal 9 (killed), Result=signal"},
		{"ActiveState=failed\nResult=core-dump\nExecMainCode=3\nExecMainStatus=6\n", false, "core dumped, Result=core-dump"},
		{"ActiveState=failed\nResult=oom-kill\nExecMainCode=2\nExecMainStatus=9\n", false, "Result=oom-kill"},
		{"ActiveState=inactive\nSubState=dead\nResult=success\nExecMainCode=1\nExecMainStatus=0\n", false, ""},
		{"ActiveState=deactivating\nSubState=stop-sigterm\n", false, ""},
	} {
		u, err := parseShow(tt.out)
		if err != nil {
			t.Fatalf("%q: %v", tt.out, err)
		}
		ended := ""
		if err := u.ended(); err != nil {
			ended = err.Error()
		}
		if u.running() != tt.running || !strings.Contains(ended, tt.ended) || (tt.ended == "") != (ended == "") {
			t.Errorf("%q: running %v ended %q, want %v %q", tt.out, u.running(), ended, tt.running, tt.ended)
		}
	}
	if _, err := parseShow("Failed to connect to bus: No such file or directory\n"); err == nil {
		t.Error("output without ActiveState parsed")
	}
	if _, err := parseShow("ActiveState=active\nMainPID=x\n"); err == nil || !strings.Contains(err.Error(), "MainPID") {
		t.Errorf("bad MainPID: err = %v", err)
	}
}
