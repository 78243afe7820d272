package mongo

import (
	"strings"
	"testing"
)

// setURI builds the replica-set URI or passes the given one through; DialSet and DialRegisters
// refuse options with neither, each with its own message.
func TestSetURI(t *testing.T) {
	for _, c := range []struct {
		uri, set string
		hosts    []string
		want     string
	}{
		{"", "rs0", []string{"a:1", "b:2"}, "mongodb://a:1,b:2/?replicaSet=rs0"},
		{"mongodb://u:p@a:1/?replicaSet=x&tls=true", "rs0", []string{"b:2"}, "mongodb://u:p@a:1/?replicaSet=x&tls=true"},
		{"", "", []string{"a:1"}, ""},
		{"", "rs0", nil, ""},
	} {
		if got := setURI(c.uri, c.set, c.hosts); got != c.want {
			t.Errorf("setURI(%q, %q, %v) = %q, want %q", c.uri, c.set, c.hosts, got, c.want)
		}
	}
	if _, err := DialSet(SetOptions{Set: "rs0"}); err == nil || !strings.Contains(err.Error(), "dial set: a set name and at least one host are required") {
		t.Errorf("DialSet without hosts: %v", err)
	}
	if _, err := DialRegisters(RegisterOptions{Hosts: []string{"a:1"}}); err == nil || !strings.Contains(err.Error(), "dial registers: a URI, or a set name") {
		t.Errorf("DialRegisters without a set name: %v", err)
	}
	c, err := DialSet(SetOptions{Set: "rs0", Hosts: []string{"127.0.0.2:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	if got := c.coll.Database().Name() + "." + c.coll.Name(); got != "rsguard_demo.writes" {
		t.Errorf("DialSet default namespace %s", got)
	}
	r, err := DialRegisters(RegisterOptions{Set: "rs0", Hosts: []string{"127.0.0.2:1"}, Collection: "regs"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(t.Context())
	if got := r.coll.Database().Name() + "." + r.coll.Name(); got != "rsguard_drill.regs" {
		t.Errorf("DialRegisters namespace %s", got)
	}
}
