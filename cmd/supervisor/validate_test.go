package main

import (
	"regexp"
	"strings"
	"testing"
)

// nodeBConfig is goodConfig as node-b's file, with edits applied (old -> new pairs).
func nodeBConfig(t *testing.T, edits ...string) string {
	t.Helper()
	s := strings.NewReplacer("id: node-a\n", "id: node-b\n", "uri: mongodb://127.0.0.2:", "uri: mongodb://127.0.0.3:",
		"bind: 127.0.0.2:7946", "bind: 127.0.0.3:7946", "listen: 127.0.0.2:0", "listen: 127.0.0.3:0").Replace(goodConfig)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			t.Fatalf("%q not in node-b's config", edits[i])
		}
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	return s
}

// Must not fire: the files of one set, differing only in per-sidecar keys, agree.
func TestValidateConfigFilesAgree(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "node-a.yaml", goodConfig)
	b := writeFile(t, dir, "node-b.yaml", nodeBConfig(t, "listen: 127.0.0.3:0\n", "listen: 127.0.0.3:0\nlog:\n  level: debug\n"))
	code, out, errs := runMain(t, "validate-config", a, b)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if !regexp.MustCompile(`(?m)^2 files agree: config fingerprint [0-9a-f]{16}$`).MatchString(out) {
		t.Errorf("stdout:\n%s", out)
	}
}

// Files that load one by one but disagree: every difference is named with file, key and values.
func TestValidateConfigFilesDisagree(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "node-a.yaml", goodConfig)
	b := writeFile(t, dir, "node-b.yaml", nodeBConfig(t,
		"listen: 127.0.0.3:0\n", "listen: 127.0.0.3:0\nfailover:\n  anti_flap_window: 10m\n",
		"gossip: 127.0.0.5:7946}", "gossip: 127.0.0.6:7946}",
		"uri: mongodb://127.0.0.3:27017", "uri: mongodb://127.0.0.9:27017"))
	c := writeFile(t, dir, "node-c.yaml", goodConfig)
	code, out, errs := runMain(t, "validate-config", a, b, c)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFailed, errs)
	}
	for _, f := range []string{a, b, c} {
		if !strings.Contains(out, f+": ok") {
			t.Errorf("%s is valid on its own but not reported ok:\n%s", f, out)
		}
	}
	q := regexp.QuoteMeta
	for _, re := range []string{
		`(?m)^` + q(b) + `:6:3: mongod\.uri: names "127\.0\.0\.9:27017" but this sidecar's members entry says its mongod is "127\.0\.0\.3:27017"`,
		`(?m)^` + q(b) + `:13:\d+: members\[2\]\.gossip: is "127\.0\.0\.6:7946" here but "127\.0\.0\.5:7946" for arb-1 in ` + q(a),
		`(?m)^` + q(b) + `:17:3: failover\.anti_flap_window: is 10m here but 5m in ` + q(a),
		`(?m)^` + q(c) + `:1:1: id: "node-a" is also the id in ` + q(a),
		`(?m)^the files do not agree \(4 problems\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(errs) {
			t.Errorf("stderr does not match %s:\n%s", re, errs)
		}
	}
}
