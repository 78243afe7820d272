package drill

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/lab"
)

// The sidecar files of a local set (the drill's and the demo's) agree with each other, or its
// sidecars would never be ready: what `supervisor validate-config` checks on them. Both layouts:
// the drill's (arbiter sidecar beside an arbiter mongod) and the demo's (on a bare address).
func TestLocalSidecarsAgree(t *testing.T) {
	dir := t.TempDir()
	// Hosts need leased addresses: a host's cgroup is emptied when it is prepared.
	lease, err := lab.LeaseBlock(context.Background(), lab.LeaseOptions{Count: 4, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Close()
	var hosts []*lab.Host
	for i, addr := range lease.Addrs {
		h, err := lab.NewHost(nil, lab.HostOptions{N: lease.First + i, Port: 27017, Dir: filepath.Join(dir, addr),
			ReplSet: "rs0", Mongod: "/usr/bin/mongod", External: true, Arbiter: i == 3})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		hosts = append(hosts, h)
	}
	set, err := NewLocalSidecars("/usr/bin/supervisor", "rs0", filepath.Join(dir, "sidecars"), "supervisor demo", hosts[:3], hosts[3:])
	if err != nil {
		t.Fatal(err)
	}
	var loaded []*config.Config
	for _, c := range set.Cars {
		cfg, err := config.Load(c.Config)
		if err != nil {
			t.Fatalf("%s: %v", c.Config, err)
		}
		loaded = append(loaded, cfg)
	}
	if len(loaded) != 4 {
		t.Fatalf("%d config files, want 4", len(loaded))
	}
	if err := config.CrossCheck(loaded); err != nil {
		t.Errorf("the local set's files do not agree: %v", err)
	}
}
