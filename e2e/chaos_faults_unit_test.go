package e2e

import (
	"errors"
	"testing"
)

// TestChaosCatchSkip: a Skip inside the firewall's set-up leaves the soak running without link
// cuts (the reason is returned), where it would otherwise skip the whole soak.
func TestChaosCatchSkip(t *testing.T) {
	why, err := catchSkip(t, func(tb testing.TB) error {
		tb.Skipf("partition tests need %s", "root")
		return errors.New("not reached")
	})
	if why != "partition tests need root" || err != nil {
		t.Errorf("Skipf: why %q, err %v", why, err)
	}
	why, err = catchSkip(t, func(tb testing.TB) error { return errors.New("iptables -I: exit 4") })
	if why != "" || err == nil {
		t.Errorf("error: why %q, err %v", why, err)
	}
	if t.Skipped() {
		t.Errorf("the test itself was skipped")
	}
}
