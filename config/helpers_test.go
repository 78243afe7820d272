package config

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

// fakeSys is an in-memory file system and environment.
type fakeSys struct {
	files map[string]string
	env   map[string]string
	bins  map[string]string // executables LookPath finds: name or path -> resolved path
}

func (f fakeSys) LookPath(file string) (string, error) {
	if p, ok := f.bins[file]; ok {
		return p, nil
	}
	return "", &fs.PathError{Op: "exec", Path: file, Err: fs.ErrNotExist}
}

func (f fakeSys) LookupEnv(name string) (string, bool) {
	v, ok := f.env[name]
	return v, ok
}

func (f fakeSys) ReadFile(path string, limit int64) ([]byte, error) {
	v, ok := f.files[path]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	if int64(len(v)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return []byte(v), nil
}

const testPassword = "s3cr3t-Pa55w0rd"

// testGossipKey is baseYAML's gossip keyring: 32 bytes, base64.
const testGossipKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

func newFakeSys() fakeSys {
	return fakeSys{
		files: map[string]string{"/etc/rsguard/mongo.pass": testPassword + "\n",
			"/etc/rsguard/gossip.keyring": testGossipKey + "\n"},
		env: map[string]string{},
	}
}

// baseYAML is a valid node.yaml; tests edit it and refer to its line numbers. Its seeds are the
// default (the other members); line 12 names the keyring, which a config needs unless insecure.
const baseYAML = `id: node-a
mode: data
replica_set: rs0
state_dir: /var/lib/rsguard
mongod:
  uri: mongodb://127.0.0.2:27017/?directConnection=true
  username: rsguard
  password_file: /etc/rsguard/mongo.pass
  connect_timeout: 2s
gossip:
  bind: 127.0.0.2:7946
  keyring_file: gossip.keyring
  settle: 3s
members:
  - {id: node-a, mode: data, gossip: 127.0.0.2:7946, mongod: 127.0.0.2:27017, zone: zone-a}
  - {id: node-b, mode: data, gossip: 127.0.0.3:7946, mongod: 127.0.0.3:27017, zone: zone-b}
  - {id: arb-1, mode: arbiter, gossip: 127.0.0.4:7946, zone: zone-c}
probe:
  interval: 1s
  timeout: 800ms
failover:
  anti_flap_window: 5m
  candidates:
    max_lag: 10s
    prefer_zones: [zone-a]
http:
  listen: 127.0.0.2:9216
log:
  level: info
`

// edit is a textual replacement of a substring that must occur exactly once.
type edit struct{ old, new string }

func applyEdits(t testing.TB, base string, edits ...edit) string {
	t.Helper()
	for _, e := range edits {
		if n := strings.Count(base, e.old); n != 1 {
			t.Fatalf("edit %q: found %d times in base, want 1", e.old, n)
		}
		base = strings.Replace(base, e.old, e.new, 1)
	}
	return base
}

func parseText(text string, sys fakeSys) (*Config, error) {
	return parse("node.yaml", "/etc/rsguard", []byte(text), sys)
}

func mustParse(t testing.TB, text string, sys fakeSys) *Config {
	t.Helper()
	c, err := parseText(text, sys)
	if err != nil {
		t.Fatalf("parse: %v\n--- input:\n%s", err, text)
	}
	return c
}

// where locates an expected error: line (1-based, 0 for none) and the text the column points at
// on that line ("" for column 1, or for no column when line is 0).
type where struct {
	line int
	at   string
}

// noCol in where.at expects a line without a column (YAML parser errors).
const noCol = "\x00"

// prefix renders "node.yaml:L:C: key: " for the text, deriving the column from where.at.
func (w where) prefix(t testing.TB, text, key string) string {
	t.Helper()
	loc := "node.yaml"
	if w.line > 0 {
		lines := strings.Split(text, "\n")
		if w.line > len(lines) {
			t.Fatalf("line %d beyond input", w.line)
		}
		col := 1
		if w.at == noCol {
			col = 0
		} else if w.at != "" {
			i := strings.Index(lines[w.line-1], w.at)
			if i < 0 {
				t.Fatalf("%q not on line %d: %q", w.at, w.line, lines[w.line-1])
			}
			col = i + 1
		}
		loc += fmt.Sprintf(":%d", w.line)
		if col > 0 {
			loc += fmt.Sprintf(":%d", col)
		}
	}
	if key != "" {
		return loc + ": " + key + ": "
	}
	return loc + ": "
}

// findErr returns the problem whose text starts with prefix and contains msg.
func findErr(t testing.TB, err error, prefix, msg string) *Error {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v (%T) is not Errors", err, err)
	}
	for _, e := range es {
		if s := e.Error(); strings.HasPrefix(s, prefix) && strings.Contains(s, msg) {
			return e
		}
	}
	t.Fatalf("no error starting %q containing %q; got:\n%v", prefix, msg, err)
	return nil
}
