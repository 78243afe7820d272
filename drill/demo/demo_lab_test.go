package demo

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/lab"
)

// The demo's generated files agree with each other, or its sidecars would never be ready.
func TestDemoConfigsAgree(t *testing.T) {
	dir := t.TempDir()
	// Hosts need leased addresses: a host's cgroup is emptied when it is prepared.
	lease, err := lab.LeaseBlock(context.Background(), lab.LeaseOptions{Count: 4, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Close()
	var hosts []*mongodHost
	var arbiter *lab.Host
	for i, addr := range lease.Addrs {
		h, err := lab.NewHost(nil, lab.HostOptions{N: lease.First + i, Port: 27017, Dir: filepath.Join(dir, addr),
			ReplSet: demoSet, Mongod: "/usr/bin/mongod", External: true})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if i == 3 {
			arbiter = h
		} else {
			hosts = append(hosts, &mongodHost{Host: h})
		}
	}
	_, cars, err := newDemoSidecars("/usr/bin/supervisor", dir, hosts, arbiter)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, s := range cars {
		files = append(files, s.config)
	}
	// What `supervisor validate-config` checks: each file loads, and the files agree.
	var loaded []*config.Config
	for _, f := range files {
		cfg, err := config.Load(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		loaded = append(loaded, cfg)
	}
	if len(loaded) != 4 {
		t.Fatalf("%d config files, want 4", len(loaded))
	}
	if err := config.CrossCheck(loaded); err != nil {
		t.Errorf("the demo's files do not agree: %v", err)
	}
}
