package lab

import (
	"fmt"
	"net"
	"strconv"
)

// Default ports on a host's own address: they never collide across hosts, since every host has
// its own 127.0.0.N.
const (
	MongodPort        = 27017
	SidecarGossipPort = 7946
	SidecarHTTPPort   = 9216
)

// FreePort returns want when it is free on addr (TCP, and UDP too when udp: memberlist needs
// both), else a port the kernel picks. The probe listener is closed before the real server
// binds, which is safe because addr is leased to the caller.
func FreePort(addr string, want int, udp bool) (int, error) {
	try := func(port int) (int, bool) {
		ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			return 0, false
		}
		defer ln.Close()
		got := ln.Addr().(*net.TCPAddr).Port
		if udp {
			pc, err := net.ListenPacket("udp", net.JoinHostPort(addr, strconv.Itoa(got)))
			if err != nil {
				return 0, false
			}
			_ = pc.Close()
		}
		return got, true
	}
	if p, ok := try(want); ok {
		return p, nil
	}
	for range 20 {
		if p, ok := try(0); ok {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port on %s (is 127.0.0.0/8 routed to lo? Linux does this by default)", addr)
}
