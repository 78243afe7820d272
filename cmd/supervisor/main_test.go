package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runMain runs the command in-process and returns its exit code, stdout and stderr.
func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// writeFile writes dir/name, and beside it the gossip.keyring that goodConfig names.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "gossip.keyring"), []byte("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodConfig = `id: node-a
mode: data
replica_set: rs0
state_dir: state
mongod:
  uri: mongodb://127.0.0.2:27017/?directConnection=true
gossip:
  bind: 127.0.0.2:7946
  keyring_file: gossip.keyring
members:
  - {id: node-a, mode: data, gossip: 127.0.0.2:7946, mongod: 127.0.0.2:27017}
  - {id: node-b, mode: data, gossip: 127.0.0.3:7946, mongod: 127.0.0.3:27017}
  - {id: arb-1, mode: arbiter, gossip: 127.0.0.5:7946}
http:
  listen: 127.0.0.2:0
`

// badConfig has a misspelt key on line 7 and a too short anti-flap window on line 13.
const badConfig = `id: node-a
mode: data
replica_set: rs0
mongod:
  uri: mongodb://127.0.0.2:27017/?directConnection=true
gossip:
  bnid: 127.0.0.2:7946
  insecure: true
members:
  - {id: node-a, mode: data, gossip: 127.0.0.2:7946, mongod: 127.0.0.2:27017}
  - {id: node-b, mode: data, gossip: 127.0.0.3:7946, mongod: 127.0.0.3:27017}
failover:
  anti_flap_window: 100ms
`

func TestValidateConfigGood(t *testing.T) {
	p := writeFile(t, t.TempDir(), "node-a.yaml", goodConfig)
	code, out, errs := runMain(t, "validate-config", p)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	want := p + ": ok (id node-a, mode data, set rs0, 3 members (2 data, 1 arbiter), quorum 2)\n"
	if out != want {
		t.Errorf("stdout:\n%q\nwant\n%q", out, want)
	}
}

func TestValidateConfigPrint(t *testing.T) {
	p := writeFile(t, t.TempDir(), "node-a.yaml", goodConfig)
	code, out, errs := runMain(t, "validate-config", "--print", p)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	for _, want := range []string{"anti_flap_window: 5m0s", "audit_log: "} {
		if !strings.Contains(out, want) {
			t.Errorf("effective config lacks %q:\n%s", want, out)
		}
	}
}

func TestValidateConfigBad(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", goodConfig)
	bad := writeFile(t, dir, "bad.yaml", badConfig)
	code, out, errs := runMain(t, "validate-config", good, bad)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFailed, errs)
	}
	if !strings.Contains(out, good+": ok") {
		t.Errorf("the good file is not reported ok:\n%s", out)
	}
	// Every problem of the bad file, each with file:line:col, and the tally.
	for _, re := range []string{
		`(?m)^` + regexp.QuoteMeta(bad) + `:7:3: gossip\.bnid: .*did you mean "bind"`,
		`(?m)^` + regexp.QuoteMeta(bad) + `:13:\d+: failover\.anti_flap_window: must be at least 1s`,
		`(?m)^1 of 2 files invalid$`,
	} {
		if !regexp.MustCompile(re).MatchString(errs) {
			t.Errorf("stderr does not match %s:\n%s", re, errs)
		}
	}
}

func TestRunBadConfig(t *testing.T) {
	bad := writeFile(t, t.TempDir(), "bad.yaml", badConfig)
	code, out, errs := runMain(t, "run", "--config", bad)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, errs)
	}
	if out != "" {
		t.Errorf("stdout: %q", out)
	}
	// Exactly as config returns them: one problem per line, file:line:col: key: message.
	want := bad + ":6:1: gossip.bind: is required"
	if !strings.HasPrefix(errs, want) || !strings.Contains(errs, "\n"+bad+":7:3: gossip.bnid: unknown key") ||
		strings.Count(errs, "\n") != 3 {
		t.Errorf("stderr is not the three problems, file:line:col first:\n%s", errs)
	}
}

func TestRunMissingConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "absent.yaml")
	code, _, errs := runMain(t, "run", "--config", p)
	if code != exitUsage || !strings.Contains(errs, p+": cannot read config file") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
}

func TestUsage(t *testing.T) {
	code, out, _ := runMain(t, "--help")
	if code != exitOK || !strings.Contains(out, "validate-config") || !strings.Contains(out, "demo") {
		t.Errorf("--help: exit %d:\n%s", code, out)
	}
	code, _, errs := runMain(t, "frobnicate")
	if code != exitUsage || !strings.Contains(errs, "frobnicate") {
		t.Errorf("unknown command: exit %d, stderr %q", code, errs)
	}
}

// A sidecar config without a gossip keyring is refused at start with the file, line and key, and
// a way out; the same file marked gossip.insecure passes validation.
func TestRunRefusesMissingKeyring(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "node-a.yaml", strings.Replace(goodConfig, "  keyring_file: gossip.keyring\n", "", 1))
	code, _, errs := runMain(t, "run", "--config", p)
	if code != exitUsage || !strings.HasPrefix(errs, p+":7:1: gossip.keyring_file: is required") ||
		!strings.Contains(errs, "gossip.insecure: true") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	p = writeFile(t, dir, "insecure.yaml", strings.Replace(goodConfig, "  keyring_file: gossip.keyring\n", "  insecure: true\n", 1))
	if code, _, errs := runMain(t, "validate-config", p); code != exitOK {
		t.Fatalf("insecure config: exit %d, stderr:\n%s", code, errs)
	}
}
