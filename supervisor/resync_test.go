package supervisor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/recovery"
)

// resyncCluster is a three-data-member cluster whose sidecars own their mongods (fake
// controllers) and know their dbpaths (each with a data file).
func resyncCluster(t *testing.T, w *world) (*cluster, map[string]*fakeController, map[string]string) {
	t.Helper()
	ctrls, dbpaths := map[string]*fakeController{}, map[string]string{}
	root := t.TempDir()
	for _, m := range threeData {
		if m.host == "" {
			continue
		}
		ctrls[m.id] = newFakeController(w, m.host)
		dbpaths[m.id] = filepath.Join(root, m.id, "db")
		if err := os.MkdirAll(dbpaths[m.id], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dbpaths[m.id], "collection-0.wt"), []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := &cluster{t: t, w: w, ctrls: ctrls, yamlEdit: func(text string) string {
		for id, p := range dbpaths {
			if strings.HasPrefix(text, "id: "+id+"\n") {
				text += "recovery:\n  dbpath: " + p + "\n"
			}
		}
		return text
	}}
	return newClusterInto(t, c, threeData, ""), ctrls, dbpaths
}

// The must-not-fire case first: a too-stale member while the set has no healthy primary may hold
// the only copy of some writes. Nothing is stopped or moved; the refusal is audited.
func TestResyncRefusedWithoutAHealthyPrimary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c, ctrls, dbpaths := resyncCluster(t, w)
		defer c.stop()
		c.waitHealthy(h1)
		// The primary and the other secondary are gone: nobody else is known to hold the data.
		w.kill(h1)
		w.kill(h3)
		w.makeTooStale(h2)
		waitFor(t, 30*time.Second, "the refusal", func() bool {
			return len(c.findAudit("b", ActionResync, election.Reason(recovery.RefusedResyncNoPrimary))) > 0 ||
				len(c.findAudit("b", ActionResync, election.Reason(recovery.RefusedResyncFailover))) > 0
		})
		time.Sleep(30 * time.Second)
		if _, stops := ctrls["b"].counts(); stops != 0 {
			t.Errorf("b stopped its mongod %d times without a healthy primary", stops)
		}
		if _, err := os.Stat(filepath.Join(dbpaths["b"], "collection-0.wt")); err != nil {
			t.Errorf("b's dbpath was touched: %v", err)
		}
	})
}

// A too-stale member with a healthy primary ahead of it: its sidecar claims the set's lease,
// stops mongod, moves the dbpath aside, starts it empty and follows it to SECONDARY; the lease is
// released and both ends are audited. Only one member resyncs at a time: a second too-stale
// member waits for the lease.
func TestResyncTooStaleMemberOneAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c, ctrls, dbpaths := resyncCluster(t, w)
		defer c.stop()
		c.waitHealthy(h1)
		w.makeTooStale(h2)
		w.makeTooStale(h3)
		waitFor(t, 30*time.Second, "a resync stop", func() bool {
			_, b := ctrls["b"].counts()
			_, cc := ctrls["c"].counts()
			return b+cc > 0
		})
		first, second, firstHost := "b", "c", h2
		if _, stops := ctrls["c"].counts(); stops > 0 {
			first, second, firstHost = "c", "b", h3
		}
		time.Sleep(10 * time.Second)
		if _, stops := ctrls[second].counts(); stops != 0 {
			t.Fatalf("%s resynced while %s held the lease", second, first)
		}
		// The first one is empty and initial-syncing; then SECONDARY, caught up.
		aside, _ := filepath.Glob(dbpaths[first] + ".resync-*")
		if len(aside) != 1 {
			t.Fatalf("the old dbpath of %s is not kept aside: %v", first, aside)
		}
		if ents, _ := os.ReadDir(dbpaths[first]); len(ents) != 0 {
			t.Errorf("the dbpath of %s is not empty: %v", first, ents)
		}
		w.clearState(firstHost)
		w.mu.Lock()
		w.optime[firstHost] = w.optime[h1]
		w.mu.Unlock()
		waitFor(t, 30*time.Second, "the end of the first resync", func() bool {
			return len(c.findAudit(first, ActionResync, election.Reason(recovery.ResyncStart))) >= 2
		})
		recs := c.findAudit(first, ActionResync, election.Reason(recovery.ResyncStart))
		if !strings.HasPrefix(recs[0].Result, "executed: started") || !strings.HasPrefix(recs[1].Result, "executed: done") {
			t.Errorf("audit of %s: %+v", first, recs)
		}
		if starts, stops := ctrls[first].counts(); starts != 2 || stops != 1 {
			t.Errorf("%s: %d starts, %d stops; want the first start, one stop, one start empty", first, starts, stops)
		}
		// The lease is released: the second member goes next.
		waitFor(t, 30*time.Second, "the second resync", func() bool { _, stops := ctrls[second].counts(); return stops > 0 })
		if n, _ := metric(t, c.regs[first], "rsguard_supervisor_resyncs_total", "result", "done"); n != 1 {
			t.Errorf("resyncs_total{done} on %s: %v", first, n)
		}
		if p, ok, _ := recovery.LoadResyncPlan(filepath.Join(c.dir, first)); !ok || p.Step != recovery.StepDone {
			t.Errorf("saved plan of %s: %+v", first, p)
		}
	})
}
