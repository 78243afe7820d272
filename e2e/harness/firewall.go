package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Chain is the iptables filter chain the harness owns. It is jumped to from INPUT (-i lo) and
// OUTPUT (-o lo), holds only DROP rules between loopback addresses, and is flushed and deleted
// when a Firewall is created (a previous run may have died holding it) and when it is closed.
const Chain = "RSGUARD-E2E"

// Firewall partitions hosts with iptables DROP rules on lo. A cut between addresses A and B
// drops, in both directions:
//
//   - packets from A to B by address (-s A -d B): sockets bound to the host address, e.g. UDP
//     gossip or a test's raw dial from 127.0.0.N;
//   - packets sent by any process in A's cgroup to B (-m cgroup --path .../A -d B): mongod dials
//     its peers from 127.0.0.1, so only its cgroup says which host it is.
//
// The test process itself is in no host: its driver clients can always reach every host.
// Only one Firewall exists at a time on the machine: NewFirewall takes a file lock, which
// serializes partition tests across concurrently running test binaries.
type Firewall struct {
	// Timeline, if set, records every Cut, Heal and HealAll.
	Timeline *Timeline

	t    testing.TB
	lock *os.File

	mu   sync.Mutex
	cuts map[[2]string][][]string // unordered pair -> rule specs
}

// NewFirewall installs the chain for this test and removes it when the test ends. It skips the
// test (with the reason) when not root, without iptables, or without cgroup v2 attribution.
func NewFirewall(t testing.TB) (*Firewall, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("partition tests need root for iptables")
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Skip("partition tests need iptables: ", err)
	}
	if ok, why := cgroupsAvailable(); !ok {
		t.Skipf("partition tests need cgroup v2 to tell hosts' traffic apart on loopback: %s", why)
	}
	lock, err := lockFirewall()
	if err != nil {
		return nil, err
	}
	fw := &Firewall{t: t, lock: lock, cuts: map[[2]string][][]string{}}
	teardownChain()
	if out, err := iptables("-N", Chain); err != nil {
		lock.Close()
		t.Skipf("cannot create iptables chain %s: %v: %s", Chain, err, out)
	}
	t.Cleanup(fw.close)
	for _, jump := range [][]string{{"-I", "INPUT", "1", "-i", "lo", "-j", Chain}, {"-I", "OUTPUT", "1", "-o", "lo", "-j", Chain}} {
		if out, err := iptables(jump...); err != nil {
			return nil, fmt.Errorf("iptables %s: %w: %s", strings.Join(jump, " "), err, out)
		}
	}
	// Probe the cgroup match once, on the parent group every host cgroup lives in.
	probe := []string{Chain, "-m", "cgroup", "--path", filepath.Dir(cgroupPathFor("x")), "-j", "RETURN"}
	if out, err := iptables(append([]string{"-A"}, probe...)...); err != nil {
		t.Skipf("iptables has no cgroup match (xt_cgroup), partitions cannot separate loopback hosts: %v: %s", err, out)
	}
	if out, err := iptables(append([]string{"-D"}, probe...)...); err != nil {
		return nil, fmt.Errorf("iptables -D probe: %w: %s", err, out)
	}
	return fw, nil
}

func lockFirewall() (*os.File, error) {
	dir, err := lockDir()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "firewall.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	err = Poll(context.Background(), 10*time.Minute, func(context.Context) error {
		return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("firewall lock held by another test process: %w", err)
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
		for i := 0; i < 10; i++ {
			if _, err := iptables(append([]string{"-D"}, jump...)...); err != nil {
				break
			}
		}
	}
	_, _ = iptables("-F", Chain)
	_, _ = iptables("-X", Chain)
}

func (fw *Firewall) close() {
	teardownChain()
	if out, err := iptables("-S", Chain); err == nil {
		fw.t.Errorf("iptables chain %s still present after cleanup: %s", Chain, out)
	}
	fw.lock.Close()
}

func pairKey(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

func hostAddr(s string) string {
	if host, _, ok := strings.Cut(s, ":"); ok {
		return host
	}
	return s
}

// rulesFor are the DROP rules for traffic from -> to.
func rulesFor(from, to string) [][]string {
	rules := [][]string{{"-s", from, "-d", to, "-j", "DROP"}}
	if ok, _ := cgroupsAvailable(); ok {
		if _, err := os.Stat(filepath.Join(cgroup2.mount, cgroupParent, from)); err == nil {
			rules = append(rules, []string{"-m", "cgroup", "--path", cgroupPathFor(from), "-d", to, "-j", "DROP"})
		}
	}
	return rules
}

// Cut drops all traffic between addresses a and b ("127.0.0.N" or "127.0.0.N:port"; the
// whole address is cut), both ways, TCP and UDP. Call it from the test goroutine.
func (fw *Firewall) Cut(a, b string) {
	fw.t.Helper()
	a, b = hostAddr(a), hostAddr(b)
	key := pairKey(a, b)
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if _, done := fw.cuts[key]; done {
		return
	}
	rules := append(rulesFor(a, b), rulesFor(b, a)...)
	for _, r := range rules {
		if out, err := iptables(append([]string{"-A", Chain}, r...)...); err != nil {
			fw.t.Fatalf("iptables -A %s %s: %v: %s", Chain, strings.Join(r, " "), err, out)
		}
	}
	fw.cuts[key] = rules
	fw.mark("cut %s <-/-> %s", a, b)
}

func (fw *Firewall) mark(format string, args ...any) {
	if fw.Timeline != nil {
		fw.Timeline.Mark(format, args...)
	}
}

// Heal removes the cut between a and b.
func (fw *Firewall) Heal(a, b string) {
	fw.t.Helper()
	key := pairKey(hostAddr(a), hostAddr(b))
	fw.mu.Lock()
	defer fw.mu.Unlock()
	for _, r := range fw.cuts[key] {
		if out, err := iptables(append([]string{"-D", Chain}, r...)...); err != nil {
			fw.t.Fatalf("iptables -D %s %s: %v: %s", Chain, strings.Join(r, " "), err, out)
		}
	}
	delete(fw.cuts, key)
	fw.mark("healed %s <---> %s", key[0], key[1])
}

// HealAll removes every cut (flushes the chain).
func (fw *Firewall) HealAll() {
	fw.t.Helper()
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if out, err := iptables("-F", Chain); err != nil {
		fw.t.Fatalf("iptables -F %s: %v: %s", Chain, err, out)
	}
	clear(fw.cuts)
	fw.mark("healed all cuts")
}

// Isolate cuts h from each of from (typically cluster.Others(h)).
func (fw *Firewall) Isolate(h *Host, from ...*Host) {
	fw.t.Helper()
	for _, o := range from {
		fw.Cut(h.Addr, o.Addr)
	}
}

// Rules lists the chain's rules (iptables -S), for logs.
func (fw *Firewall) Rules() string {
	out, _ := iptables("-S", Chain)
	return out
}
