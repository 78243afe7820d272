package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Chain is the iptables filter chain the lab owns. It is jumped to from INPUT (-i lo) and
// OUTPUT (-o lo), holds only DROP rules between loopback addresses, and is flushed and deleted
// when a Firewall is created (a previous run may have died holding it) and when it is closed.
const Chain = "RSGUARD-E2E"

// ErrFirewallUnavailable says partitions cannot be made here (not root, no iptables, no cgroup
// v2 or no xt_cgroup match); the error text says which.
var ErrFirewallUnavailable = errors.New("partitions unavailable")

// Firewall partitions hosts with iptables DROP rules on lo. A cut between addresses A and B
// drops, in both directions:
//
//   - packets from A to B by address (-s A -d B): sockets bound to the host address, e.g. UDP
//     gossip or a raw dial from 127.0.0.N;
//   - packets sent by any process in A's cgroup to B (-m cgroup --path .../A -d B): mongod dials
//     its peers from 127.0.0.1, so only its cgroup says which host it is.
//
// The owner's process is in no host: its clients can always reach every host. Only one Firewall
// exists at a time on the machine: NewFirewall takes a file lock, which serializes partition
// runs across processes. It never uses netns or a non-loopback address.
type Firewall struct {
	// Timeline, if set, records every Cut, Heal and HealAll.
	Timeline *Timeline

	lock *os.File

	mu     sync.Mutex
	cuts   map[[2]string][][]string // unordered pair -> rule specs
	closed bool
}

// FirewallAvailable says whether NewFirewall can work here, and if not why (without touching
// iptables beyond a lookup).
func FirewallAvailable() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: partitions need root for iptables", ErrFirewallUnavailable)
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		return fmt.Errorf("%w: partitions need iptables: %w", ErrFirewallUnavailable, err)
	}
	if ok, why := cgroupsAvailable(); !ok {
		return fmt.Errorf("%w: partitions need cgroup v2 to tell hosts' traffic apart on loopback: %s", ErrFirewallUnavailable, why)
	}
	return nil
}

// NewFirewall waits (up to lockWait) for the machine-wide firewall lock and installs the chain.
// Errors wrapping ErrFirewallUnavailable mean this machine cannot partition (tests skip).
func NewFirewall(ctx context.Context, lockWait time.Duration) (*Firewall, error) {
	if err := FirewallAvailable(); err != nil {
		return nil, err
	}
	lock, err := lockFirewall(ctx, lockWait)
	if err != nil {
		return nil, err
	}
	fw := &Firewall{lock: lock, cuts: map[[2]string][][]string{}}
	teardownChain()
	if out, err := iptables("-N", Chain); err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("%w: cannot create iptables chain %s: %w: %s", ErrFirewallUnavailable, Chain, err, out)
	}
	for _, jump := range [][]string{{"-I", "INPUT", "1", "-i", "lo", "-j", Chain}, {"-I", "OUTPUT", "1", "-o", "lo", "-j", Chain}} {
		if out, err := iptables(jump...); err != nil {
			_ = fw.Close()
			return nil, fmt.Errorf("iptables %s: %w: %s", strings.Join(jump, " "), err, out)
		}
	}
	// Probe the cgroup match once, on the parent group every host cgroup lives in.
	probe := []string{Chain, "-m", "cgroup", "--path", filepath.Dir(cgroupPathFor("x")), "-j", "RETURN"}
	if out, err := iptables(append([]string{"-A"}, probe...)...); err != nil {
		_ = fw.Close()
		return nil, fmt.Errorf("%w: iptables has no cgroup match (xt_cgroup), partitions cannot separate loopback hosts: %w: %s",
			ErrFirewallUnavailable, err, out)
	}
	if out, err := iptables(append([]string{"-D"}, probe...)...); err != nil {
		_ = fw.Close()
		return nil, fmt.Errorf("iptables -D probe: %w: %s", err, out)
	}
	return fw, nil
}

func lockFirewall(ctx context.Context, wait time.Duration) (*os.File, error) {
	dir, err := LockDir()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "firewall.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("firewall lock: %w", err)
	}
	err = Poll(ctx, wait, func(context.Context) error {
		return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	})
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("firewall lock held by another process: %w", err)
	}
	return f, nil
}

func iptables(args ...string) (string, error) {
	out, err := exec.Command("iptables", append([]string{"-w", "10"}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// teardownChain removes the jumps (all copies) and the chain; errors mean "not there".
func teardownChain() {
	for _, jump := range [][]string{{"INPUT", "-i", "lo", "-j", Chain}, {"OUTPUT", "-o", "lo", "-j", Chain}} {
		for range 10 {
			if _, err := iptables(append([]string{"-D"}, jump...)...); err != nil {
				break
			}
		}
	}
	_, _ = iptables("-F", Chain)
	_, _ = iptables("-X", Chain)
}

// Close flushes and deletes the chain and releases the lock; it is idempotent. It fails when
// the chain is still there afterwards.
func (fw *Firewall) Close() error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.closed {
		return nil
	}
	fw.closed = true
	teardownChain()
	defer fw.lock.Close()
	if out, err := iptables("-S", Chain); err == nil {
		return fmt.Errorf("iptables chain %s still present after cleanup: %s", Chain, out)
	}
	return nil
}

// Cut drops all traffic between addresses a and b ("127.0.0.N" or "127.0.0.N:port"; the whole
// address is cut), both ways, TCP and UDP.
func (fw *Firewall) Cut(a, b string) error {
	a, b = HostAddr(a), HostAddr(b)
	if err := checkLoopback(a, b); err != nil {
		return err
	}
	key := pairKey(a, b)
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if _, done := fw.cuts[key]; done {
		return nil
	}
	rules := append(CutRules(a, b, hostCgroupPath(a)), CutRules(b, a, hostCgroupPath(b))...)
	for i, r := range rules {
		if out, err := iptables(append([]string{"-A", Chain}, r...)...); err != nil {
			for _, done := range rules[:i] {
				_, _ = iptables(append([]string{"-D", Chain}, done...)...)
			}
			return fmt.Errorf("iptables -A %s %s: %w: %s", Chain, strings.Join(r, " "), err, out)
		}
	}
	fw.cuts[key] = rules
	fw.mark("cut %s <-/-> %s", a, b)
	return nil
}

// Heal removes the cut between a and b.
func (fw *Firewall) Heal(a, b string) error {
	key := pairKey(HostAddr(a), HostAddr(b))
	fw.mu.Lock()
	defer fw.mu.Unlock()
	for _, r := range fw.cuts[key] {
		if out, err := iptables(append([]string{"-D", Chain}, r...)...); err != nil {
			return fmt.Errorf("iptables -D %s %s: %w: %s", Chain, strings.Join(r, " "), err, out)
		}
	}
	delete(fw.cuts, key)
	fw.mark("healed %s <---> %s", key[0], key[1])
	return nil
}

// HealAll removes every cut (flushes the chain).
func (fw *Firewall) HealAll() error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if out, err := iptables("-F", Chain); err != nil {
		return fmt.Errorf("iptables -F %s: %w: %s", Chain, err, out)
	}
	clear(fw.cuts)
	fw.mark("healed all cuts")
	return nil
}

// Isolate cuts h from each of from (typically Cluster.Others(h)).
func (fw *Firewall) Isolate(h *Host, from ...*Host) error {
	for _, o := range from {
		if err := fw.Cut(h.Addr, o.Addr); err != nil {
			return err
		}
	}
	return nil
}

// Rules lists the chain's rules (iptables -S), for logs.
func (fw *Firewall) Rules() string {
	out, _ := iptables("-S", Chain)
	return out
}

func (fw *Firewall) mark(format string, args ...any) {
	if fw.Timeline != nil {
		fw.Timeline.Mark(format, args...)
	}
}
