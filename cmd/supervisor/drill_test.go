package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/mongoemu"
)

func TestDrillUsageErrors(t *testing.T) {
	remote := []string{"--uri", "mongodb://127.0.0.1:1/?replicaSet=rs0", "--sidecars", "127.0.0.1:2"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"drill"}, "give --scenario NAME,... or --all (known: kill-primary,"},
		{[]string{"drill", "--all", "--scenario", "kill-primary"}, "not both"},
		{[]string{"drill", "--scenario", "kill-primray"}, `--scenario: scenario "kill-primray": unknown`},
		{[]string{"drill", "--all", "--runs", "0"}, "--runs 0: must be at least 1"},
		{[]string{"drill", "--all", "--wait", "0s"}, "--wait 0s: must be positive"},
		{[]string{"drill", "--all", "--first-address", "127.0.0.1"}, `--first-address "127.0.0.1": want 127.0.0.N with N from 2`},
		{[]string{"drill", "--all", "--first-address", "nonsense"}, `--first-address "nonsense"`},
		{append([]string{"drill", "--all", "--yes-really", "--dir", "x"}, remote...), "--dir go with the local set"},
		{[]string{"drill", "--all", "--sidecars", "h:1"}, "--sidecars and --yes-really go with --uri"},
		{append([]string{"drill", "--all"}, remote...), "add --yes-really to go ahead"},
		{[]string{"drill", "--all", "--yes-really", "--uri", "mongodb://h:1/", "--sidecars", "h:2"}, "no replicaSet=NAME option"},
		{[]string{"drill", "--all", "--yes-really", "--uri", "mongodb://u:secret@h:1/?replicaSet=rs0"}, "give at least one sidecar"},
		{[]string{"drill", "--all", "--yes-really", "--uri", "http://h:1/?replicaSet=rs0", "--sidecars", "h:2"}, "want mongodb://"},
	}
	for _, c := range cases {
		code, _, errOut := runMain(t, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
		if strings.Contains(errOut, "secret") {
			t.Errorf("%q: the password is in the message: %q", c.args, errOut)
		}
	}
}

func TestDrillList(t *testing.T) {
	code, out, _ := runMain(t, "drill", "--list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 12 || !strings.HasPrefix(lines[0], "kill-primary ") {
		t.Errorf("exit %d, %d lines:\n%s", code, len(lines), out)
	}
}

// TestDrillRemoteUnreachable: against a set that does not answer, the runs end in error or
// skip, the table says why, the exit code is 1 and both report files are written.
func TestDrillRemoteUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	dir := t.TempDir()
	jsonPath, htmlPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	code, out, errOut := runMain(t, "drill", "--scenario", "freeze-primary,kill-primary", "--yes-really",
		"--uri", "mongodb://"+addr+"/?replicaSet=rs0", "--sidecars", addr, "--json", jsonPath, "--html", htmlPath, "--wait", "1s")
	if code != exitFailed {
		t.Errorf("exit %d, want 1; stderr %s", code, errOut)
	}
	for _, want := range []string{"freeze-primary #1 skipped: freeze-host: unsupported by this target: freezing a host stops its processes",
		"kill-primary #1: reading the set: waiting for a healthy set: context deadline exceeded (last error: no member answered replSetGetStatus", "0 passed, 1 failed, 1 skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("output has no %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Results []struct{ Scenario, Verdict string }
	}
	if err := json.Unmarshal(b, &r); err != nil || len(r.Results) != 2 || r.Results[1].Verdict != "error" {
		t.Errorf("JSON report: %v %+v", err, r)
	}
	if h, err := os.ReadFile(htmlPath); err != nil || !strings.Contains(string(h), "<h2>kill-primary #1") {
		t.Errorf("HTML report: %v", err)
	}
}

// TestDrillCtrlCUndoesTheFault: SIGINT while a stall-primary-disk run waits (no sidecar runs:
// nothing fails over) ends the run as interrupted and releases the fsyncLock before exiting.
func TestDrillCtrlCUndoesTheFault(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an emulated mongod")
	}
	var hosts []string
	for range 2 {
		n, err := mongoemu.New(mongoemu.Options{BindIP: "127.0.0.1", DBPath: t.TempDir(), ReplSet: "rs0"})
		if err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithCancel(context.Background())
		go func() { _ = n.Serve(sctx) }()
		t.Cleanup(func() { cancel(); n.Stop(nil); <-n.Done() })
		hosts = append(hosts, n.Addr())
	}
	ctx, cancelInit := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancelInit()
	if err := mongo.Initiate(ctx, hosts[0], "rs0", hosts); err != nil {
		t.Fatal(err)
	}
	client, err := mongo.DialSet(mongo.SetOptions{Set: "rs0", Hosts: hosts, Collection: "ctrlc"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Close(context.Background()) }()
	insert := func(id int64, d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return client.InsertW1(ctx, id)
	}
	for id := int64(1); insert(id, time.Second) != nil; id++ {
		if ctx.Err() != nil {
			t.Fatal("the set never took a write")
		}
	}

	type ended struct {
		code     int
		out, err string
	}
	done := make(chan ended, 1)
	go func() {
		code, out, errOut := runMainCtx(context.Background(), "drill", "--scenario", "stall-primary-disk", "--yes-really",
			"--uri", "mongodb://"+strings.Join(hosts, ",")+"/?replicaSet=rs0", "--sidecars", "127.0.0.1:1", "--wait", "2m")
		done <- ended{code, out, errOut}
	}()
	// Locked: a write hangs.
	deadline := time.Now().Add(time.Minute)
	for id := int64(100); insert(id, 300*time.Millisecond) == nil; id++ {
		select {
		case e := <-done:
			t.Fatalf("the drill ended before the stall: exit %d\n%s\n%s", e.code, e.out, e.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the drill never stalled the disk")
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var e ended
	select {
	case e = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the drill did not end after SIGINT")
	}
	if e.code != exitFailed || !strings.Contains(e.err, "interrupted after 1 of 1 runs") || !strings.Contains(e.out, "stall-primary-disk #1: interrupted") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", e.code, e.out, e.err)
	}
	if err := insert(1000, 5*time.Second); err != nil {
		t.Errorf("a write after the interrupted drill: %v (the fsyncLock was not released)", err)
	}
}
