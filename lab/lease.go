package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Hosts are loopback addresses 127.0.0.N, N >= 2 (DESIGN.md "Test tiers"; never netns, never a
// non-loopback address). The demo, drills and every test binary may run at once, so each address
// is leased with an flock on a file in one lock directory, $TMPDIR/rsguard-e2e/locks (the name
// predates this package; older binaries use it too). The kernel drops a lease when its holder dies.

// MinN and MaxN bound the N of a leasable 127.0.0.N.
const (
	MinN = 2
	MaxN = 254
)

// LockDir is the directory of the address and firewall lock files, shared by root and non-root
// runs.
func LockDir() (string, error) {
	dir := filepath.Join(os.TempDir(), "rsguard-e2e", "locks")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", fmt.Errorf("lock directory: %w", err)
	}
	// Whoever creates it must let the others lock in it.
	_ = os.Chmod(filepath.Dir(dir), 0o1777)
	_ = os.Chmod(dir, 0o1777)
	return dir, nil
}

// LeaseOptions choose a block of consecutive addresses.
type LeaseOptions struct {
	// First is the N of the first address; 0 takes the lowest free block from 127.0.0.2.
	First int
	// Count is the number of addresses (at least 1).
	Count int
	// Exact waits for exactly First..First+Count-1; otherwise a taken block moves up to the next
	// free one (the demo beside a running test suite).
	Exact bool
	// Timeout bounds the wait for a free block (0: one attempt).
	Timeout time.Duration
}

// Lease holds a block of loopback addresses until Close.
type Lease struct {
	First int      // N of the first address
	Addrs []string // "127.0.0.N", in order

	mu    sync.Mutex
	files []*os.File
}

// Close releases every address; it is idempotent.
func (l *Lease) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.files {
		_ = f.Close()
	}
	l.files = nil
	return nil
}

// ErrLeased says an address is held by another process (a demo, drill or test).
var ErrLeased = errors.New("leased by another rsguard demo, drill or test process")

func tryLease(dir string, n int) (*os.File, error) {
	addr := fmt.Sprintf("127.0.0.%d", n)
	f, err := os.OpenFile(filepath.Join(dir, addr+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", addr, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("127.0.0.%d is %w (%v)", n, ErrLeased, err)
	}
	return f, nil
}

// LeaseBlock leases o.Count consecutive addresses (see LeaseOptions).
func LeaseBlock(ctx context.Context, o LeaseOptions) (*Lease, error) {
	if o.Count < 1 || o.First != 0 && (o.First < MinN || o.First+o.Count-1 > MaxN) {
		return nil, fmt.Errorf("lease: cannot lease %d addresses from 127.0.0.%d (need %d <= N and N+%d <= %d)",
			o.Count, o.First, MinN, o.Count-1, MaxN)
	}
	dir, err := LockDir()
	if err != nil {
		return nil, err
	}
	block := func(start int) (*Lease, error) {
		l := &Lease{First: start}
		for n := start; n < start+o.Count; n++ {
			f, err := tryLease(dir, n)
			if err != nil {
				_ = l.Close()
				return nil, err
			}
			l.files = append(l.files, f)
			l.Addrs = append(l.Addrs, fmt.Sprintf("127.0.0.%d", n))
		}
		return l, nil
	}
	from := max(o.First, MinN)
	var got *Lease
	try := func(context.Context) error {
		var err error
		if o.Exact {
			got, err = block(from)
			return err
		}
		for start := from; start+o.Count-1 <= MaxN; start++ {
			if got, err = block(start); err == nil {
				return nil
			}
		}
		return fmt.Errorf("no free block of %d loopback addresses from 127.0.0.%d: %w", o.Count, from, err)
	}
	if o.Timeout <= 0 {
		if err := try(ctx); err != nil {
			return nil, fmt.Errorf("lease: %w", err)
		}
		return got, nil
	}
	if err := Poll(ctx, o.Timeout, try); err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	return got, nil
}
