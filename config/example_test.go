package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestExampleFileLoads(t *testing.T) {
	c, err := Load("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "node-a" || c.Quorum() != 3 || len(c.Gossip.Keyring) != 2 || !c.Mongod.Password.IsSet() {
		t.Errorf("example: id %q quorum %d keys %d", c.ID, c.Quorum(), len(c.Gossip.Keyring))
	}
	if !filepath.IsAbs(c.Mongod.PasswordFile) || !filepath.IsAbs(c.Gossip.KeyringFile) {
		t.Errorf("paths not resolved: %q %q", c.Mongod.PasswordFile, c.Gossip.KeyringFile)
	}
}

// TestEffectiveYAMLRoundTrips checks that validate-config's effective output parses back to the
// same configuration.
func TestEffectiveYAMLRoundTrips(t *testing.T) {
	c, err := Load("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "effective.yaml")
	if err := os.WriteFile(path, y, 0o600); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	if d := diff(reflect.ValueOf(*c), reflect.ValueOf(*back), ""); len(d) != 0 {
		t.Errorf("round trip changed %v", d)
	}
	if back.Mongod.Password.Reveal() != c.Mongod.Password.Reveal() {
		t.Error("password differs after round trip")
	}
}
