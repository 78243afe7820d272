// Package memnet is an in-memory memberlist.Transport for tests: a Network of named addresses
// that pass packets over buffered channels and streams over net.Pipe, with fault injection that
// mirrors what the e2e harness does with real processes and iptables.
//
// It opens no sockets and starts no goroutines of its own; every wait is a channel operation or a
// timer from package time, so a whole cluster runs inside a testing/synctest bubble on fake time.
//
// Fault model, chosen to match the e2e harness (iptables DROP on lo, SIGSTOP, SIGKILL):
//
//   - Kill(addr): everything to and from addr is silently dropped, like a frozen or crashed host
//     behind a DROP rule. Dials towards it hang until their timeout; packets vanish.
//   - Cut(a, b): the same, for the a<->b pair only (a bidirectional partition).
//   - Heal(a, b), HealAll(), Revive(addr) undo them.
//   - A closed transport (process gone, port closed) refuses dials at once, like a TCP RST, and
//     swallows packets, like UDP to a closed port.
//
// Streams already open when a fault starts fail on their next Read or Write; real TCP behind a DROP
// rule would stall until a deadline instead, which memberlist treats the same way.
package memnet

import (
	"fmt"
	"net/netip"
	"sync"
)

// Network is one simulated loopback segment. The zero value is not usable; call NewNetwork.
type Network struct {
	mu     sync.Mutex
	nodes  map[string]*Transport
	killed map[string]bool
	cuts   map[link]bool
	// Dropped counts packets and dials lost to faults, for tests that want to see faults bite.
	dropped int
}

// link is an unordered pair of addresses.
type link struct{ a, b string }

func mkLink(a, b string) link {
	if b < a {
		a, b = b, a
	}
	return link{a, b}
}

// NewNetwork returns an empty network with no faults.
func NewNetwork() *Network {
	return &Network{
		nodes:  make(map[string]*Transport),
		killed: make(map[string]bool),
		cuts:   make(map[link]bool),
	}
}

// NewTransport attaches a transport at addr, which must be "ip:port" with a literal IP (memberlist
// advertises IPs). Use it as memberlist.Config.Transport. It fails if addr is taken.
func (n *Network) NewTransport(addr string) (*Transport, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("memnet: address %q: want literal ip:port: %w", addr, err)
	}
	addr = ap.String()
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.nodes[addr]; ok {
		return nil, fmt.Errorf("memnet: address %s already in use", addr)
	}
	t := newTransport(n, ap)
	n.nodes[addr] = t
	return t, nil
}

// Kill drops all traffic to and from addr until Revive.
func (n *Network) Kill(addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.killed[addr] = true
}

// Revive undoes Kill.
func (n *Network) Revive(addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.killed, addr)
}

// Cut drops all traffic between a and b, both ways, until Heal.
func (n *Network) Cut(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cuts[mkLink(a, b)] = true
}

// Heal undoes Cut(a, b).
func (n *Network) Heal(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.cuts, mkLink(a, b))
}

// Partition cuts every link between the two groups, like a switch failure splitting a rack.
func (n *Network) Partition(left, right []string) {
	for _, a := range left {
		for _, b := range right {
			n.Cut(a, b)
		}
	}
}

// HealAll removes every cut and revives every killed address.
func (n *Network) HealAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.cuts)
	clear(n.killed)
}

// Dropped is how many packets and dials the faults have swallowed so far.
func (n *Network) Dropped() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dropped
}

// route decides the fate of traffic from -> to: the destination transport, or nil when it does not
// exist (closed port); blocked when a fault swallows it.
func (n *Network) route(from, to string) (dst *Transport, blocked bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.killed[from] || n.killed[to] || n.cuts[mkLink(from, to)] {
		n.dropped++
		return nil, true
	}
	return n.nodes[to], false
}

// linked reports whether from and to can currently talk, for streams already open.
func (n *Network) linked(from, to string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.killed[from] && !n.killed[to] && !n.cuts[mkLink(from, to)]
}

// detach frees addr so that a restarted node can bind it again.
func (n *Network) detach(t *Transport) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nodes[t.key] == t {
		delete(n.nodes, t.key)
	}
}
