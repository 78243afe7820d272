package memnet

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/memberlist"
)

func pair(t *testing.T) (*Network, *Transport, *Transport) {
	t.Helper()
	n := NewNetwork()
	a, err := n.NewTransport("127.0.0.2:7946")
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.NewTransport("127.0.0.3:7946")
	if err != nil {
		t.Fatal(err)
	}
	return n, a, b
}

func recv(t *Transport) (*memberlist.Packet, bool) {
	select {
	case p := <-t.PacketCh():
		return p, true
	default:
		return nil, false
	}
}

func TestNewTransport(t *testing.T) {
	n := NewNetwork()
	for _, bad := range []string{"localhost:1", "127.0.0.1", "nonsense"} {
		if _, err := n.NewTransport(bad); err == nil {
			t.Errorf("NewTransport(%q) accepted", bad)
		}
	}
	tr, err := n.NewTransport("127.0.0.2:7000")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.NewTransport("127.0.0.2:7000"); err == nil {
		t.Error("duplicate address accepted")
	}
	ip, port, err := tr.FinalAdvertiseAddr("10.0.0.1", 1)
	if err != nil || ip.String() != "127.0.0.2" || port != 7000 || tr.Addr() != "127.0.0.2:7000" {
		t.Errorf("FinalAdvertiseAddr = %v %v %v", ip, port, err)
	}
	_ = tr.Shutdown()
	_ = tr.Shutdown()
	if _, err := n.NewTransport("127.0.0.2:7000"); err != nil {
		t.Errorf("address not freed by Shutdown: %v", err)
	}
	if _, err := tr.WriteTo([]byte("x"), "127.0.0.2:7000"); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteTo after Shutdown: %v", err)
	}
}

func TestPacketsAndFaults(t *testing.T) {
	n, a, b := pair(t)
	buf := []byte("ping")
	if _, err := a.WriteTo(buf, b.Addr()); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X' // the network owns a copy
	p, ok := recv(b)
	if !ok || string(p.Buf) != "ping" || p.From.String() != a.Addr() || p.Timestamp.IsZero() {
		t.Fatalf("packet = %+v, %v", p, ok)
	}
	// Closed ports swallow packets without an error, like UDP.
	if _, err := a.WriteToAddress([]byte("x"), memberlist.Address{Addr: "127.0.0.9:1"}); err != nil {
		t.Error(err)
	}

	check := func(what string, want bool) {
		t.Helper()
		_, _ = a.WriteTo([]byte("ab"), b.Addr())
		_, _ = b.WriteTo([]byte("ba"), a.Addr())
		_, gotB := recv(b)
		_, gotA := recv(a)
		if gotA != want || gotB != want {
			t.Errorf("%s: delivered a->b %v, b->a %v, want %v", what, gotB, gotA, want)
		}
	}
	n.Kill(a.Addr())
	check("killed", false)
	n.Revive(a.Addr())
	check("revived", true)
	n.Cut(b.Addr(), a.Addr())
	check("cut", false)
	n.Heal(a.Addr(), b.Addr())
	check("healed", true)
	n.Partition([]string{a.Addr()}, []string{b.Addr()})
	check("partitioned", false)
	n.HealAll()
	check("heal all", true)
	if n.Dropped() != 6 {
		t.Errorf("Dropped = %d, want 6", n.Dropped())
	}

	// A full queue drops instead of blocking the sender.
	for range packetQueue + 10 {
		_, _ = a.WriteTo([]byte("x"), b.Addr())
	}
	if len(b.PacketCh()) != packetQueue {
		t.Errorf("queue holds %d", len(b.PacketCh()))
	}
}

func TestStreams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, a, b := pair(t)
		defer a.Shutdown()
		defer b.Shutdown()

		c, err := a.DialTimeout(b.Addr(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		s := <-b.StreamCh()
		if c.RemoteAddr().String() != b.Addr() || s.RemoteAddr().String() != a.Addr() || c.LocalAddr().String() != a.Addr() {
			t.Errorf("addrs: %v %v %v", c.RemoteAddr(), s.RemoteAddr(), c.LocalAddr())
		}
		go func() { _, _ = c.Write([]byte("hello")) }()
		got := make([]byte, 5)
		if _, err := io.ReadFull(s, got); err != nil || string(got) != "hello" {
			t.Fatalf("read %q, %v", got, err)
		}

		// A cut breaks open streams.
		n.Cut(a.Addr(), b.Addr())
		if _, err := c.Write([]byte("x")); err == nil {
			t.Error("write across a cut succeeded")
		}
		if _, err := s.Read(got); err == nil {
			t.Error("read across a cut succeeded")
		}

		// A dial into a fault hangs until its timeout, like a SYN lost to DROP.
		start := time.Now()
		_, err = a.DialTimeout(b.Addr(), 3*time.Second)
		if !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != 3*time.Second {
			t.Errorf("dial across a cut: %v after %v", err, time.Since(start))
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("dial timeout is not a net.Error timeout: %v", err)
		}
		// ...unless the dialer shuts down first.
		done := make(chan error)
		go func() {
			_, err := a.DialTimeout(b.Addr(), time.Minute)
			done <- err
		}()
		synctest.Wait()
		_ = a.Shutdown()
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Errorf("hanging dial after Shutdown: %v", err)
		}

		// A closed port refuses at once; an unaccepted stream is closed by Shutdown.
		n.HealAll()
		_, err = b.DialTimeout("127.0.0.9:1", time.Second)
		if !errors.Is(err, ErrRefused) {
			t.Errorf("dial to closed port: %v", err)
		}
		if _, err := b.DialTimeout(a.Addr(), time.Second); !errors.Is(err, ErrRefused) {
			t.Errorf("dial to shut transport: %v", err)
		}
		c3, err := a.DialTimeout(b.Addr(), time.Second)
		if err == nil || c3 != nil {
			t.Errorf("dial from a shut transport: %v", err)
		}
		c4, err := n.nodes[b.Addr()].DialAddressTimeout(memberlist.Address{Addr: b.Addr()}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = b.Shutdown()
		if _, err := c4.Read(got); err == nil {
			t.Error("stream pending at Shutdown still open")
		}
	})
}
