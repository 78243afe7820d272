package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
