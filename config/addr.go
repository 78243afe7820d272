package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// addrRules say which host:port forms a key accepts.
type addrRules struct {
	emptyHost   bool // ":9216" listens on every address
	unspecified bool // 0.0.0.0 / [::] allowed (a bind, not something peers can dial)
	portZero    bool // port 0 picks a free port (HTTP listener in tests)
}

// checkAddr returns "" when s is a valid host:port under r, else what is wrong.
func checkAddr(s string, r addrRules) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf(`must be host:port (such as "10.0.0.5:7946" or "[::1]:7946"), got %s`, quote(s))
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || (n == 0 && !r.portZero) {
		lo := 1
		if r.portZero {
			lo = 0
		}
		return fmt.Sprintf("port must be a number from %d to 65535, got %s", lo, quote(port))
	}
	if host == "" {
		if r.emptyHost {
			return ""
		}
		return fmt.Sprintf("host is missing in %s", quote(s))
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.IsUnspecified() && !r.unspecified {
			return fmt.Sprintf("%s is not an address peers can reach; name this host's own address", quote(host))
		}
		return ""
	}
	if !validHostname(host) {
		return fmt.Sprintf("host %s is neither an IP address nor a valid host name", quote(host))
	}
	return ""
}

// validHostname is RFC 1123: dot-separated labels of letters, digits and inner hyphens.
func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// isUnspecifiedHost reports whether host:port listens on every address.
func isUnspecifiedHost(s string) bool {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	if host == "" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsUnspecified()
}
