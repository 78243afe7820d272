package notify

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// script writes an executable shell script into dir and returns its path.
func script(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "hook.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPreFailoverVetoOnNonZeroExit(t *testing.T) {
	dir := t.TempDir()
	h := &Hook{Command: []string{script(t, dir, "echo checking lag\necho \"lag too high on $RSGUARD_TO\" >&2\nexit 3\n")}}
	n, _, _ := newTest(t, Options{Hooks: Hooks{PreFailover: h}})
	err := n.PreFailover(context.Background(), Event{Kind: KindFailover, To: "h2:27017"})
	var v *VetoError
	if !errors.As(err, &v) {
		t.Fatalf("got %v, want a *VetoError", err)
	}
	if v.Hook != HookPreFailover || v.ExitCode != 3 || v.TimedOut || !strings.Contains(v.Output, "checking lag") || !strings.Contains(v.Output, "lag too high on h2:27017") {
		t.Errorf("veto %+v", v)
	}
	if !strings.Contains(err.Error(), "(exit code 3): lag too high on h2:27017") {
		t.Errorf("message %q", err)
	}
	if hookRuns(n, HookPreFailover, hookFailed) != 1 {
		t.Error("run not counted as failed")
	}
}

func TestPreFailoverAllows(t *testing.T) {
	dir := t.TempDir()
	h := &Hook{Command: []string{script(t, dir, "exit 0\n")}}
	n, _, _ := newTest(t, Options{Hooks: Hooks{PreFailover: h}})
	if err := n.PreFailover(context.Background(), Event{Kind: KindSwitchover}); err != nil {
		t.Fatalf("exit 0: %v", err)
	}
	none, _, _ := newTest(t, Options{})
	if err := none.PreFailover(context.Background(), Event{Kind: KindFailover}); err != nil {
		t.Fatalf("no hook: %v", err)
	}
}

func TestPreFailoverVetoWhenCommandMissing(t *testing.T) {
	n, _, _ := newTest(t, Options{Hooks: Hooks{PreFailover: &Hook{Command: []string{filepath.Join(t.TempDir(), "absent")}}}})
	var v *VetoError
	if err := n.PreFailover(context.Background(), Event{Kind: KindFailover}); !errors.As(err, &v) || v.Err == nil || v.ExitCode != -1 {
		t.Fatalf("got %v, want a veto with the start error", err)
	}
}

// alive reports whether pid exists and is not a zombie waiting for a parent to reap it.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// At the timeout the whole process group dies, the script's background child included.
func TestPreFailoverTimeoutKillsProcessGroup(t *testing.T) {
	for _, policy := range []TimeoutPolicy{TimeoutVeto, TimeoutAllow} {
		t.Run(string(policy), func(t *testing.T) {
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "child.pid")
			body := "sleep 300 &\necho $! > " + pidFile + ".tmp\nmv " + pidFile + ".tmp " + pidFile + "\necho started\nwait\n"
			h := &Hook{Command: []string{script(t, dir, body)}, Timeout: time.Second, OnTimeout: policy}
			n, _, _ := newTest(t, Options{Hooks: Hooks{PreFailover: h}})
			err := n.PreFailover(context.Background(), Event{Kind: KindFailover})
			var v *VetoError
			switch policy {
			case TimeoutVeto:
				if !errors.As(err, &v) || !v.TimedOut || !strings.Contains(v.Output, "started") {
					t.Fatalf("got %v, want a timeout veto", err)
				}
			case TimeoutAllow:
				if err != nil {
					t.Fatalf("on_timeout allow: %v", err)
				}
			}
			if hookRuns(n, HookPreFailover, hookTimeout) != 1 {
				t.Error("run not counted as a timeout")
			}
			data, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatalf("the script did not record its child: %v", err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			eventually(t, "the background child to die", func() bool { return !alive(pid) })
		})
	}
}

// The asynchronous hooks see the documented environment and run for their kinds only.
func TestAsyncHooksEnvironmentAndKinds(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	body := "env > \"$OUT.$RSGUARD_EVENT.tmp\" && mv \"$OUT.$RSGUARD_EVENT.tmp\" \"$OUT.$RSGUARD_EVENT\"\n"
	cmd := []string{script(t, dir, body)}
	env := []string{"OUT=" + out, "RSGUARD_SET=overridden-by-the-event"}
	n, _, _ := newTest(t, Options{Hooks: Hooks{
		PostFailover: &Hook{Command: cmd, Env: env},
		OnResync:     &Hook{Command: cmd, Env: env},
		OnRollback:   &Hook{Command: cmd, Env: env},
	}})
	ev := Event{ID: "ev-9", Kind: KindFailover, Summary: "node-b is primary", Reason: "primary_dead", Actor: "rsguard",
		Member: "h1:27017", From: "h1:27017", To: "h2:27017", Term: 12, Fields: map[string]string{"took_ms": "900"}}
	n.Notify(Event{Kind: KindPause}) // runs no hook
	n.Notify(ev)
	n.Notify(Event{Kind: KindResyncStarted, Member: "h1:27017"})
	n.Notify(Event{Kind: KindRollbackArchived})
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for hook, want := range map[string]float64{HookPostFailover: 1, HookOnResync: 1, HookOnRollback: 1} {
		if got := hookRuns(n, hook, hookOK); got != want {
			t.Errorf("%s ran %v times ok, want %v", hook, got, want)
		}
	}
	data, err := os.ReadFile(out + ".failover")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "RSGUARD_") {
			vars[k] = v
		}
	}
	for k, want := range map[string]string{
		"RSGUARD_EVENT": "failover", "RSGUARD_EVENT_ID": "ev-9", "RSGUARD_SET": "rs0", "RSGUARD_SIDECAR": "node-a",
		"RSGUARD_REASON": "primary_dead", "RSGUARD_ACTOR": "rsguard", "RSGUARD_MEMBER": "h1:27017",
		"RSGUARD_FROM": "h1:27017", "RSGUARD_TO": "h2:27017", "RSGUARD_TERM": "12",
	} {
		if vars[k] != want {
			t.Errorf("%s=%q, want %q", k, vars[k], want)
		}
	}
	var got Event
	if err := json.Unmarshal([]byte(vars["RSGUARD_EVENT_JSON"]), &got); err != nil {
		t.Fatalf("RSGUARD_EVENT_JSON %q: %v", vars["RSGUARD_EVENT_JSON"], err)
	}
	if got.ID != "ev-9" || got.Fields["took_ms"] != "900" || got.Term != 12 {
		t.Errorf("RSGUARD_EVENT_JSON decodes to %+v", got)
	}
	if _, ok := os.LookupEnv("PATH"); ok && !strings.Contains(string(data), "\nPATH=") && !strings.HasPrefix(string(data), "PATH=") {
		t.Error("the parent's environment (PATH) was not inherited")
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	tl := &tail{max: 8}
	_, _ = tl.Write([]byte("0123456789"))
	_, _ = tl.Write([]byte("ab"))
	if got := tl.String(); got != "...456789ab" {
		t.Errorf("tail %q", got)
	}
}
