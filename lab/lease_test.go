package lab

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Two leasers never hold the same address: the second one asking for exactly the first one's
// block is refused with ErrLeased, a movable request gets the next free block, and a Close
// frees the addresses for the next leaser.
func TestLeaseExclusive(t *testing.T) {
	ctx := context.Background()
	a, err := LeaseBlock(ctx, LeaseOptions{First: 200, Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// Another process would fail the flock the same way: flock locks are per open file.
	_, err = LeaseBlock(ctx, LeaseOptions{First: a.First, Count: 2, Exact: true})
	if !errors.Is(err, ErrLeased) {
		t.Fatalf("exact lease of a held block: got %v, want ErrLeased", err)
	}
	b, err := LeaseBlock(ctx, LeaseOptions{First: a.First, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, x := range a.Addrs {
		for _, y := range b.Addrs {
			if x == y {
				t.Fatalf("both leasers hold %s (a %v, b %v)", x, a.Addrs, b.Addrs)
			}
		}
	}
	if b.First < a.First+3 {
		t.Errorf("second block starts at %d, inside the first %v", b.First, a.Addrs)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	c, err := LeaseBlock(ctx, LeaseOptions{First: a.First, Count: 3, Exact: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("lease after Close: %v", err)
	}
	_ = c.Close()
}

func TestLeaseBadInput(t *testing.T) {
	for _, o := range []LeaseOptions{{Count: 0}, {First: 1, Count: 1}, {First: 250, Count: 10}} {
		if _, err := LeaseBlock(context.Background(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
