package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo/mongotest"
)

// A pre_failover hook that says no keeps a dead primary's failover from happening: no
// replSetStepUp is sent, and the executor audits the veto with the hook's words. (The scenario
// where the hook allows it is every other failover test: no hook means go.)
func TestPreFailoverHookVetoesAFailover(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "veto.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"maintenance window: $RSGUARD_FROM stays\"\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, fmt.Sprintf("hooks:\n  pre_failover:\n    command: [%q]\n    timeout: 5s\n", script))
		defer c.stop()
		c.waitHealthy(h1)
		w.kill(h1)
		waitFor(t, 20*time.Second, "the vetoed step-up audited", func() bool {
			for _, rec := range c.audit("b") {
				if rec.Decision.Action == election.StepUp && strings.Contains(rec.Result, string(ReasonVetoed)) &&
					strings.Contains(rec.Result, "maintenance window: "+h1+" stays") {
					return true
				}
			}
			return false
		})
		if n := w.calls(h2, mongotest.OpStepUp) + w.calls(h3, mongotest.OpStepUp); n != 0 {
			t.Errorf("%d replSetStepUp sent despite the veto", n)
		}
	})
}
