package harness

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rsguard/rsguard/lab"
)

// Chain is the iptables filter chain the lab owns (lab.Chain).
const Chain = lab.Chain

// Firewall partitions hosts with iptables DROP rules on lo (lab.Firewall); its methods fail the
// test instead of returning errors. Set Timeline to record cuts and heals.
type Firewall struct {
	*lab.Firewall
	t testing.TB
}

// NewFirewall installs the chain for this test and removes it when the test ends. It skips the
// test (with the reason) when not root, without iptables, or without cgroup v2 attribution.
func NewFirewall(t testing.TB) (*Firewall, error) {
	t.Helper()
	fw, err := lab.NewFirewall(context.Background(), 10*time.Minute)
	if errors.Is(err, lab.ErrFirewallUnavailable) {
		t.Skip(err.Error())
	}
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		if err := fw.Close(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return &Firewall{Firewall: fw, t: t}, nil
}

// Cut drops all traffic between addresses a and b ("127.0.0.N" or "127.0.0.N:port"), both
// ways, TCP and UDP. Call it from the test goroutine.
func (fw *Firewall) Cut(a, b string) {
	fw.t.Helper()
	if err := fw.Firewall.Cut(a, b); err != nil {
		fw.t.Fatalf("%v", err)
	}
}

// Heal removes the cut between a and b.
func (fw *Firewall) Heal(a, b string) {
	fw.t.Helper()
	if err := fw.Firewall.Heal(a, b); err != nil {
		fw.t.Fatalf("%v", err)
	}
}

// HealAll removes every cut (flushes the chain).
func (fw *Firewall) HealAll() {
	fw.t.Helper()
	if err := fw.Firewall.HealAll(); err != nil {
		fw.t.Fatalf("%v", err)
	}
}

// Isolate cuts h from each of from (typically cluster.Others(h)).
func (fw *Firewall) Isolate(h *Host, from ...*Host) {
	fw.t.Helper()
	for _, o := range from {
		fw.Cut(h.Addr, o.Addr)
	}
}
