package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Loopback addresses are leased with an flock on $TMPDIR/rsguard-e2e/locks/127.0.0.N.lock, the
// convention of the e2e harness, so that a demo and a running e2e test (or two demos) never
// share an address. The kernel drops a lease when its holder dies.

type addrLease struct{ f *os.File }

func (l *addrLease) release() { _ = l.f.Close() }

func leaseAddr(addr string) (*addrLease, error) {
	dir := filepath.Join(os.TempDir(), "rsguard-e2e", "locks")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	_ = os.Chmod(filepath.Dir(dir), 0o1777) // shared by root and non-root runs
	_ = os.Chmod(dir, 0o1777)
	f, err := os.OpenFile(filepath.Join(dir, addr+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is in use by another rsguard demo or e2e test", addr)
	}
	return &addrLease{f: f}, nil
}

// leaseBlock leases 127.0.0.first .. first+count-1; when one of them is taken it moves to the
// next block up, so that the demo runs beside a test suite.
func leaseBlock(first, count int) (int, []*addrLease, error) {
	if first < 2 || first+count-1 > 254 {
		return 0, nil, fmt.Errorf("--first-ip %d: need 2 <= N and N+%d <= 254", first, count-1)
	}
	var lastErr error
	for start := first; start+count-1 <= 254; start++ {
		var ls []*addrLease
		for n := start; n < start+count; n++ {
			l, err := leaseAddr(fmt.Sprintf("127.0.0.%d", n))
			if err != nil {
				lastErr = err
				break
			}
			ls = append(ls, l)
		}
		if len(ls) == count {
			return start, ls, nil
		}
		for _, l := range ls {
			l.release()
		}
	}
	return 0, nil, fmt.Errorf("no free block of %d loopback addresses from 127.0.0.%d: %w", count, first, lastErr)
}
