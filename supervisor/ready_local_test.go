package supervisor

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// /readyz says when the sidecar's own mongod stops answering, in one line naming it and how it
// failed (no driver dump), while the sidecar keeps taking part in decisions.
func TestReadyzSaysTheLocalMongodIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)
		if ok, r := c.sups["b"].Ready(); !ok {
			t.Fatalf("b not ready before the kill: %q", r)
		}
		w.kill(h2)
		waitFor(t, 10*time.Second, "b's /readyz to name its dead mongod", func() bool {
			ok, r := c.sups["b"].Ready()
			return !ok && len(r) == 1 && strings.HasPrefix(r[0], "local mongod "+h2+" does not answer (") && len(r[0]) < 120
		})
		if st := c.status("b"); !st.Ready {
			t.Errorf("b's status stopped being ready for decisions: %v", st.NotReady)
		}
		w.revive(h2)
		waitFor(t, 10*time.Second, "b's /readyz to recover", func() bool { ok, _ := c.sups["b"].Ready(); return ok })
	})
}
