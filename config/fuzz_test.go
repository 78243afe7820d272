package config

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser: it must never panic, and every error it
// returns must be an Errors whose problems all name the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte(baseYAML))
	f.Add([]byte(minimalYAML))
	if example, err := os.ReadFile("testdata/example.yaml"); err == nil {
		f.Add(example)
	}
	for _, s := range []string{
		"", "---\n...\n", "- a", "id: [", "a: &a [*a]", "id: !!binary AAAA", "<<: {id: x}",
		"members: [{id: a}, {id: a}]", "probe: {interval: 1h1h}", "id: 0x10\nmode: ~",
		"failover: {candidates: {require_tags: {a: b, a: c}}}", "\t- x", "a: b\n---\nc: d\n",
	} {
		f.Add([]byte(s))
	}
	sys := newFakeSys()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parse("fuzz.yaml", "/etc/rsguard", data, sys)
		if err == nil {
			if c == nil {
				t.Fatal("nil config without error")
			}
			if _, err := c.YAML(); err != nil {
				t.Fatalf("YAML of a valid config: %v", err)
			}
			return
		}
		if c != nil {
			t.Fatal("config returned with an error")
		}
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("error %T is not a non-empty Errors: %v", err, err)
		}
		for _, e := range es {
			if e.File != "fuzz.yaml" || e.Msg == "" {
				t.Fatalf("problem without file or message: %#v", e)
			}
		}
	})
}
