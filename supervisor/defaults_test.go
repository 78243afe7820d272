package supervisor

import (
	"reflect"
	"testing"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/election"
)

// TestDefaultConfigIsDefaultPolicy: one source of defaults. The default configuration, mapped
// onto the policy as a running sidecar maps it, is election.DefaultPolicy field for field, so
// the scenario tests (which run DefaultPolicy) run what production runs.
func TestDefaultConfigIsDefaultPolicy(t *testing.T) {
	cfg := config.Default()
	got := policyFrom(&cfg)
	// Empty and nil candidate lists mean the same: no rule.
	if len(got.PreferZones) == 0 {
		got.PreferZones = nil
	}
	if len(got.AvoidZones) == 0 {
		got.AvoidZones = nil
	}
	if len(got.RequireTags) == 0 {
		got.RequireTags = nil
	}
	if want := election.DefaultPolicy(); !reflect.DeepEqual(got, want) {
		t.Errorf("config defaults map to\n%+v\nwant election.DefaultPolicy\n%+v", got, want)
	}
	// A parsed minimal file gets the same policy as config.Default().
	parsed := policyFrom(parseConfig(t, ""))
	if parsed.ElectionQuiet != got.ElectionQuiet || parsed.AntiFlapWindow != got.AntiFlapWindow || parsed.FenceAfter != got.FenceAfter ||
		parsed.SickAfter != got.SickAfter || parsed.MaxLag != got.MaxLag || parsed.ProbeFailures != got.ProbeFailures {
		t.Errorf("parsed default config maps to %+v, want %+v", parsed, got)
	}
}
