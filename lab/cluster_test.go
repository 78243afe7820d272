package lab

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

// A one-member set comes up, answers through mongo/, and Close (twice) kills the mongod and
// releases the address for the next leaser.
func TestClusterStartClose(t *testing.T) {
	if testing.Short() {
		t.Skip("builds mongoemu and starts a mongod: not in -short")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	bins, err := FindBinaries(ctx, BinOptions{Dir: t.TempDir(), NoSupervisor: true})
	if errors.Is(err, ErrNoSource) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCluster(ctx, nil, Options{Members: 1, Bare: 1, Dir: t.TempDir(), Binaries: bins})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := c.WaitPrimary(ctx, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The bare address is leased beside the member but runs nothing and is not in the set.
	bare := c.BareHosts()
	if len(bare) != 1 || len(c.Hosts()) != 1 || bare[0].N != p.N+1 || bare[0].Arbiter {
		t.Fatalf("hosts %v, bare %v: want one member and the next address bare", c.Hosts(), bare)
	}
	if bare[0].Running() {
		t.Errorf("bare host %s runs a mongod", bare[0])
	}
	if _, err := LeaseBlock(ctx, LeaseOptions{First: bare[0].N, Count: 1, Exact: true, Timeout: 100 * time.Millisecond}); err == nil {
		t.Errorf("bare address %s not leased", bare[0])
	}
	if st, err := c.State(ctx, p); err != nil || st != "PRIMARY" {
		t.Fatalf("state %q %v", st, err)
	}
	pid := p.Proc().Pid()
	first := p.N
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if p.Running() || syscall.Kill(pid, 0) == nil {
		t.Errorf("mongod pid %d still running after Close", pid)
	}
	l, err := LeaseBlock(ctx, LeaseOptions{First: first, Count: 2, Exact: true})
	if err != nil {
		t.Fatalf("address not released by Close: %v", err)
	}
	_ = l.Close()
	if _, err := p.Command(ctx, nil); err == nil {
		t.Error("a closed host still runs commands")
	}
}
