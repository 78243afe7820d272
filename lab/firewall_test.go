package lab

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// envDial makes the test binary a tiny dialer process (TestMain): it connects to the address
// without binding a source address, as mongod dials its peers, and exits 0 or 3.
const envDial = "RSGUARD_LAB_HELPER_DIAL"

func TestMain(m *testing.M) {
	if addr := os.Getenv(envDial); addr != "" {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			os.Exit(3)
		}
		c.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const probeTimeout = 300 * time.Millisecond

func tcpFrom(src, dst string) error {
	d := net.Dialer{Timeout: probeTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", dst)
	if err != nil {
		return err
	}
	return c.Close()
}

// udpFrom sends a datagram from a socket bound to src to the listener and reports whether it
// arrived before the probe timeout.
func udpFrom(src string, ln *net.UDPConn) error {
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, ln.LocalAddr().(*net.UDPAddr))
	if err != nil {
		return err
	}
	defer c.Close()
	msg := []byte("probe from " + src + " " + strconv.FormatInt(time.Now().UnixNano(), 10))
	if _, err := c.Write(msg); err != nil {
		return err
	}
	buf := make([]byte, 128)
	for {
		_ = ln.SetReadDeadline(time.Now().Add(probeTimeout))
		n, _, err := ln.ReadFromUDP(buf)
		if err != nil {
			return err
		}
		if string(buf[:n]) == string(msg) {
			return nil
		}
	}
}

// TestFirewallCutsTCPAndUDP checks the firewall itself: a cut between two addresses stops TCP
// and UDP both ways, including from a process in the host's cgroup that dials from 127.0.0.1,
// while the other pairs still talk; Heal and HealAll restore everything.
func TestFirewallCutsTCPAndUDP(t *testing.T) {
	fw, err := NewFirewall(t.Context(), 10*time.Minute)
	if errors.Is(err, ErrFirewallUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := fw.Close(); err != nil {
			t.Error(err)
		}
	})
	lease, err := LeaseBlock(t.Context(), LeaseOptions{Count: 3, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lease.Close() })
	a, b, c := lease.Addrs[0], lease.Addrs[1], lease.Addrs[2]
	cgA, err := openHostCgroup(a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cgA.remove() })

	tcp := map[string]string{}
	udp := map[string]*net.UDPConn{}
	for _, addr := range []string{a, b, c} {
		ln, err := net.Listen("tcp", addr+":0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				conn.Close()
			}
		}()
		tcp[addr] = ln.Addr().String()
		u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(addr)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { u.Close() })
		udp[addr] = u
	}
	dir := t.TempDir()
	dialFromCgroup := func(dst string) error {
		p := &Proc{Name: "dialer", Path: os.Args[0], Args: []string{"-test.run=^$"}, cg: cgA,
			StdoutPath: filepath.Join(dir, "dialer.out"), StderrPath: filepath.Join(dir, "dialer.err")}
		t.Setenv(envDial, dst)
		defer os.Unsetenv(envDial)
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		if code := p.ExitCode(); code != 0 {
			return errors.New("dialer in cgroup failed: " + p.ExitState())
		}
		return nil
	}
	expect := func(what string, err error, reachable bool) {
		t.Helper()
		if reachable && err != nil {
			t.Errorf("%s: want reachable, got %v", what, err)
		}
		if !reachable && err == nil {
			t.Errorf("%s: want blocked, got through", what)
		}
	}
	check := func(stage string, abCut bool) {
		t.Helper()
		expect(stage+": tcp "+a+"->"+b, tcpFrom(a, tcp[b]), !abCut)
		expect(stage+": tcp "+b+"->"+a, tcpFrom(b, tcp[a]), !abCut)
		expect(stage+": udp "+a+"->"+b, udpFrom(a, udp[b]), !abCut)
		expect(stage+": udp "+b+"->"+a, udpFrom(b, udp[a]), !abCut)
		expect(stage+": cgroup "+a+" (src 127.0.0.1) ->"+b, dialFromCgroup(tcp[b]), !abCut)
		expect(stage+": tcp "+a+"->"+c, tcpFrom(a, tcp[c]), true)
		expect(stage+": tcp "+c+"->"+b, tcpFrom(c, tcp[b]), true)
		expect(stage+": udp "+c+"->"+a, udpFrom(c, udp[a]), true)
		expect(stage+": udp "+b+"->"+c, udpFrom(b, udp[c]), true)
		expect(stage+": cgroup "+a+" (src 127.0.0.1) ->"+c, dialFromCgroup(tcp[c]), true)
		expect(stage+": test process (127.0.0.1) ->"+b, tcpFrom("127.0.0.1", tcp[b]), true)
	}
	check("before", false)
	if err := fw.Cut(a, b); err != nil {
		t.Fatal(err)
	}
	t.Logf("rules:\n%s", fw.Rules())
	check("cut", true)
	if err := fw.Heal(a, b); err != nil {
		t.Fatal(err)
	}
	check("healed", false)
	if err := fw.Cut(b, a); err != nil {
		t.Fatal(err)
	}
	check("cut again", true)
	if err := fw.HealAll(); err != nil {
		t.Fatal(err)
	}
	check("heal all", false)
}

func TestTimelineReport(t *testing.T) {
	tl := NewTimeline()
	tl.Mark("before")
	z := tl.Zero("killed primary")
	tl.Mark("new primary")
	if tl.Offset(z) != 0 {
		t.Fatalf("zero offset %v", tl.Offset(z))
	}
	if e, ok := tl.Find("new primary"); !ok || tl.Offset(e) < 0 {
		t.Fatalf("find: %v %v", e, ok)
	}
	if b, _ := tl.Find("before"); tl.Offset(b) > 0 {
		t.Fatalf("event before zero has offset %v", tl.Offset(b))
	}
	t.Log("\n" + tl.Report())
}
