package mongo

import (
	"context"
	"net"
	"testing"
	"time"
)

// A listener that accepts and closes at once, as a requireTLS mongod does with a plain-text
// client: the handshake failed, although a short caller deadline makes it look like a timeout.
// A closed port and a silent listener are not handshake failures.
func TestHandshakeFailedThroughDriver(t *testing.T) {
	closing, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer closing.Close()
	go func() {
		for {
			c, err := closing.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	gone, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	goneAddr := gone.Addr().String()
	gone.Close()

	for _, c := range []struct {
		name, addr string
		want       bool
	}{
		{"closes during handshake", closing.Addr().String(), true},
		{"silent", silent.Addr().String(), false},
		{"refused", goneAddr, false},
	} {
		n := dialTest(t, c.addr)
		// The monitor needs a moment to record its first failure: a handshake failure must show
		// up within the deadline, the others must not show up at all during it.
		deadline := time.Now().Add(3 * time.Second)
		seen := false
		for !seen && time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(t.Context(), 800*time.Millisecond)
			_, err := n.Hello(ctx)
			cancel()
			if err == nil {
				t.Fatalf("%s: hello succeeded", c.name)
			}
			seen = HandshakeFailed(err)
			if seen && !c.want {
				t.Fatalf("%s: HandshakeFailed = true; err: %v", c.name, err)
			}
		}
		if c.want && !seen {
			t.Errorf("%s: HandshakeFailed never true within 3s", c.name)
		}
	}
}
