package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Hosts are loopback addresses 127.0.0.N, N >= 2 (DESIGN.md "Test tiers"; never netns, never a
// non-loopback address). Several test binaries may run at once (go test ./e2e/...), so each
// address is leased with an flock on a file under $TMPDIR/rsguard-e2e/locks; the kernel drops
// the lease when the holder dies.

// MongodPort is the port a host gets when it is free on its address.
const MongodPort = 27017

const maxN = 254

type addrLease struct {
	n    int
	addr string
	f    *os.File
}

func lockDir() (string, error) {
	dir := filepath.Join(os.TempDir(), "rsguard-e2e", "locks")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", err
	}
	// Shared by root and non-root runs: whoever creates it must let the others lock in it.
	_ = os.Chmod(filepath.Dir(dir), 0o1777)
	_ = os.Chmod(dir, 0o1777)
	return dir, nil
}

func tryLease(n int) (*addrLease, error) {
	dir, err := lockDir()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.%d", n)
	f, err := os.OpenFile(filepath.Join(dir, addr+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return &addrLease{n: n, addr: addr, f: f}, nil
}

func (l *addrLease) release() { _ = l.f.Close() }

func releaseAll(ls []*addrLease) {
	for _, l := range ls {
		l.release()
	}
}

// leaseAddrs leases count consecutive addresses. With first > 0 it waits (up to timeout) for
// exactly 127.0.0.first..; otherwise it takes the lowest free block starting at 127.0.0.2.
func leaseAddrs(first, count int, timeout time.Duration) ([]*addrLease, error) {
	if count < 1 || first != 0 && (first < 2 || first+count-1 > maxN) {
		return nil, fmt.Errorf("cannot lease %d addresses from 127.0.0.%d (need 2 <= N <= %d)", count, first, maxN)
	}
	block := func(start int) ([]*addrLease, error) {
		var ls []*addrLease
		for n := start; n < start+count; n++ {
			l, err := tryLease(n)
			if err != nil {
				releaseAll(ls)
				return nil, fmt.Errorf("127.0.0.%d is leased by another test process: %w", n, err)
			}
			ls = append(ls, l)
		}
		return ls, nil
	}
	var got []*addrLease
	err := Poll(context.Background(), timeout, func(context.Context) error {
		var err error
		if first != 0 {
			got, err = block(first)
			return err
		}
		for start := 2; start+count-1 <= maxN; start++ {
			if got, err = block(start); err == nil {
				return nil
			}
		}
		return errors.New("no free block of loopback addresses")
	})
	return got, err
}

// pickPort returns MongodPort if it is free on addr, else a free ephemeral port. The probe
// listener is closed before mongod binds, which is safe because addr is leased to us.
func pickPort(addr string) (int, error) {
	for _, p := range []int{MongodPort, 0} {
		ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port on %s", addr)
}
