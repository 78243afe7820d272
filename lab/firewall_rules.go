package lab

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

func pairKey(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// HostAddr is the address part of "127.0.0.N:port" (or s itself).
func HostAddr(s string) string {
	if host, _, ok := strings.Cut(s, ":"); ok {
		return host
	}
	return s
}

// checkLoopback refuses anything but 127.0.0.0/8: partitions never touch another network.
func checkLoopback(addrs ...string) error {
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil || !ip.Is4() || !ip.IsLoopback() {
			return fmt.Errorf("firewall: %q is not a 127.0.0.N address: partitions stay on loopback", a)
		}
	}
	return nil
}

// hostCgroupPath is the cgroup hierarchy path of addr's host when that cgroup exists, else "".
func hostCgroupPath(addr string) string {
	if ok, _ := cgroupsAvailable(); !ok {
		return ""
	}
	if _, err := os.Stat(filepath.Join(cgroup2.mount, cgroupParent, addr)); err != nil {
		return ""
	}
	return cgroupPathFor(addr)
}

// CutRules are the rule specs (after "-A CHAIN") dropping traffic from -> to: by address, and
// by the sender's host cgroup when fromCgroup (its hierarchy path) is not empty.
func CutRules(from, to, fromCgroup string) [][]string {
	rules := [][]string{{"-s", from, "-d", to, "-j", "DROP"}}
	if fromCgroup != "" {
		rules = append(rules, []string{"-m", "cgroup", "--path", fromCgroup, "-d", to, "-j", "DROP"})
	}
	return rules
}
