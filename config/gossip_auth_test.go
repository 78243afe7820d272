package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const keyringLine = "  keyring_file: gossip.keyring\n" // baseYAML line 12

// A sidecar config without a keyring is refused, naming the file, the gossip section's line and
// the key, unless it says insecure explicitly.
func TestGossipNeedsAKeyringUnlessInsecure(t *testing.T) {
	noKeyring := applyEdits(t, baseYAML, edit{keyringLine, ""})
	_, err := parseText(noKeyring, newFakeSys())
	e := findErr(t, err, where{10, ""}.prefix(t, noKeyring, "gossip.keyring_file"), "is required")
	if !strings.Contains(e.Msg, "gossip.insecure: true") || !strings.Contains(e.Msg, "forge") {
		t.Errorf("the message does not say why or how to opt out: %q", e.Msg)
	}
	if es := err.(Errors); len(es) != 1 {
		t.Errorf("want exactly the keyring problem, got:\n%v", err)
	}

	insecure := applyEdits(t, baseYAML, edit{keyringLine, "  insecure: true\n"})
	c := mustParse(t, insecure, newFakeSys())
	if !c.Gossip.Insecure || len(c.Gossip.KeyringBytes()) != 0 {
		t.Errorf("insecure config: insecure %v keys %d", c.Gossip.Insecure, len(c.Gossip.KeyringBytes()))
	}
	if c := mustParse(t, baseYAML, newFakeSys()); c.Gossip.Insecure || len(c.Gossip.KeyringBytes()) != 1 {
		t.Errorf("base config: insecure %v keys %d", c.Gossip.Insecure, len(c.Gossip.KeyringBytes()))
	}

	both := applyEdits(t, baseYAML, edit{keyringLine, keyringLine + "  insecure: true\n"})
	_, err = parseText(both, newFakeSys())
	findErr(t, err, where{13, "insecure"}.prefix(t, both, "gossip.insecure"), "cannot be true while gossip.keyring_file is set")

	loose := applyEdits(t, baseYAML, edit{keyringLine, "  insecure: yes\n"})
	_, err = parseText(loose, newFakeSys())
	findErr(t, err, where{12, "insecure"}.prefix(t, loose, "gossip.insecure"), "expected true or false")
	if es := err.(Errors); len(es) != 1 {
		t.Errorf("a bad insecure value also reported a missing keyring:\n%v", err)
	}
}

// The same refusal through Load on a real file, as `supervisor run` and validate-config see it.
func TestLoadRefusesMissingKeyring(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.yaml")
	text := applyEdits(t, baseYAML, edit{keyringLine, ""}, edit{"/etc/rsguard/mongo.pass", "pw"})
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":10:1: gossip.keyring_file: is required") {
		t.Fatalf("Load = %v", err)
	}
}
