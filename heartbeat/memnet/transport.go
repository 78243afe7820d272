package memnet

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Queue depths: a packet queue that overflows drops, like a full UDP socket buffer; a stream
// backlog that overflows refuses, like a full listen backlog.
const (
	packetQueue   = 512
	streamBacklog = 32
)

var (
	// ErrRefused is returned when dialing an address nobody listens on.
	ErrRefused = errors.New("memnet: connection refused")
	// ErrClosed is returned by a transport after Shutdown.
	ErrClosed = errors.New("memnet: transport closed")
	// errDropped breaks a stream whose link a fault took down.
	errDropped = errors.New("memnet: link down")
)

// Transport is one node's attachment to a Network. It implements memberlist.NodeAwareTransport.
type Transport struct {
	net      *Network
	key      string // "ip:port"
	udp      *net.UDPAddr
	tcp      *net.TCPAddr
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	done     chan struct{}
	once     sync.Once
}

var _ memberlist.NodeAwareTransport = (*Transport)(nil)

func newTransport(n *Network, ap netip.AddrPort) *Transport {
	return &Transport{
		net:      n,
		key:      ap.String(),
		udp:      net.UDPAddrFromAddrPort(ap),
		tcp:      net.TCPAddrFromAddrPort(ap),
		packetCh: make(chan *memberlist.Packet, packetQueue),
		streamCh: make(chan net.Conn, streamBacklog),
		done:     make(chan struct{}),
	}
}

// Addr is the transport's "ip:port".
func (t *Transport) Addr() string { return t.key }

// FinalAdvertiseAddr always advertises the transport's own address: on memnet the address is the
// identity, there is nothing else to bind.
func (t *Transport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return t.udp.IP, t.udp.Port, nil
}

// WriteTo sends a packet. Like UDP it never reports loss: faults, closed ports and full queues
// all drop silently.
func (t *Transport) WriteTo(b []byte, addr string) (time.Time, error) {
	now := time.Now()
	if t.closed() {
		return now, ErrClosed
	}
	dst, _ := t.net.route(t.key, addr)
	if dst == nil {
		return now, nil
	}
	p := &memberlist.Packet{Buf: append([]byte(nil), b...), From: t.udp, Timestamp: now}
	select {
	case <-dst.done:
	case dst.packetCh <- p:
	default:
	}
	return now, nil
}

// WriteToAddress ignores the node name: addresses are unique on a Network.
func (t *Transport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	return t.WriteTo(b, a.Addr)
}

// PacketCh delivers incoming packets.
func (t *Transport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

// DialTimeout opens a stream over net.Pipe. Towards a killed or cut address it hangs until timeout,
// like a SYN lost to a DROP rule; towards a closed port it fails at once.
func (t *Transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if t.closed() {
		return nil, ErrClosed
	}
	dst, blocked := t.net.route(t.key, addr)
	if blocked {
		return nil, t.hang(addr, timeout)
	}
	if dst == nil {
		return nil, t.dialError(addr, ErrRefused)
	}
	client, server := net.Pipe()
	cc := &conn{Conn: client, net: t.net, local: t.tcp, remote: dst.tcp}
	sc := &conn{Conn: server, net: t.net, local: dst.tcp, remote: t.tcp}
	select {
	case <-dst.done:
	case dst.streamCh <- sc:
		return cc, nil
	default:
	}
	_ = client.Close()
	_ = server.Close()
	return nil, t.dialError(addr, ErrRefused)
}

// dialError looks like the kernel's: a *net.OpError whose Timeout() memberlist can test.
func (t *Transport) dialError(addr string, err error) error {
	var to net.Addr
	if ap, perr := netip.ParseAddrPort(addr); perr == nil {
		to = net.TCPAddrFromAddrPort(ap)
	}
	return &net.OpError{Op: "dial", Net: "tcp", Source: t.tcp, Addr: to, Err: err}
}

// hang waits out a dial that a fault swallowed.
func (t *Transport) hang(addr string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = 75 * time.Second // Linux's default connect timeout, roughly
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-timer.C:
		return t.dialError(addr, os.ErrDeadlineExceeded)
	case <-t.done:
		return ErrClosed
	}
}

// DialAddressTimeout ignores the node name: addresses are unique on a Network.
func (t *Transport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return t.DialTimeout(a.Addr, timeout)
}

// StreamCh delivers incoming streams.
func (t *Transport) StreamCh() <-chan net.Conn { return t.streamCh }

// Shutdown detaches the transport, frees its address and closes streams nobody accepted. The
// channels stay open: memberlist stops reading them on its own shutdown signal.
func (t *Transport) Shutdown() error {
	t.once.Do(func() {
		close(t.done)
		t.net.detach(t)
		for {
			select {
			case c := <-t.streamCh:
				_ = c.Close()
			default:
				return
			}
		}
	})
	return nil
}

func (t *Transport) closed() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// conn is one end of a stream. It reports TCP addresses, as memberlist logs and checks them, and
// breaks as soon as a fault takes its link down.
type conn struct {
	net.Conn
	net           *Network
	local, remote *net.TCPAddr
}

func (c *conn) LocalAddr() net.Addr  { return c.local }
func (c *conn) RemoteAddr() net.Addr { return c.remote }

func (c *conn) Read(b []byte) (int, error) {
	if !c.up() {
		return 0, errDropped
	}
	return c.Conn.Read(b)
}

func (c *conn) Write(b []byte) (int, error) {
	if !c.up() {
		return 0, errDropped
	}
	return c.Conn.Write(b)
}

func (c *conn) up() bool {
	if c.net.linked(c.local.String(), c.remote.String()) {
		return true
	}
	_ = c.Conn.Close()
	return false
}
