package lab

import (
	"reflect"
	"testing"
)

func TestCutRules(t *testing.T) {
	got := CutRules("127.0.0.2", "127.0.0.3", "")
	want := [][]string{{"-s", "127.0.0.2", "-d", "127.0.0.3", "-j", "DROP"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("without cgroup: %v", got)
	}
	got = CutRules("127.0.0.2", "127.0.0.3", "/rsguard-e2e/127.0.0.2")
	want = append(want, []string{"-m", "cgroup", "--path", "/rsguard-e2e/127.0.0.2", "-d", "127.0.0.3", "-j", "DROP"})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with cgroup: %v", got)
	}
}

func TestFirewallAddresses(t *testing.T) {
	if HostAddr("127.0.0.4:27017") != "127.0.0.4" || HostAddr("127.0.0.4") != "127.0.0.4" {
		t.Error("HostAddr")
	}
	if pairKey("127.0.0.3", "127.0.0.2") != pairKey("127.0.0.2", "127.0.0.3") {
		t.Error("pairKey is not symmetric")
	}
	if err := checkLoopback("127.0.0.2", "127.0.0.9"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"10.0.0.2", "192.168.1.1", "::1", "host"} {
		if err := checkLoopback(bad); err == nil {
			t.Errorf("%s accepted as a loopback host", bad)
		}
	}
	fw := &Firewall{cuts: map[[2]string][][]string{}}
	if err := fw.Cut("127.0.0.2", "10.1.2.3"); err == nil {
		t.Error("Cut to a non-loopback address did not fail")
	}
}
