package supervisor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/topology"
)

// rollbackFile writes a one-document rollback file as mongod does (spec §7.7 step 5).
func rollbackFile(t *testing.T, dbpath string) string {
	t.Helper()
	// {_id: 1}: int32 _id, 14 bytes.
	doc := []byte{14, 0, 0, 0, 0x10, '_', 'i', 'd', 0, 1, 0, 0, 0, 0}
	p := filepath.Join(dbpath, "rollback", "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", "removed.2026-12-02T17-01-02.0.bson")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Rollback files are archived only once the member's mongod answers as SECONDARY: never while it
// is in ROLLBACK (mongod may still be writing them) or down. Then they move to the archive, with
// an audit line and the document counter.
func TestRollbackFilesArchivedOnlyWhenSecondary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dbpath := t.TempDir()
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		w.setState(h2, topology.StateRollback)
		c := newClusterEdited(t, w, threeData, "", func(text string) string {
			if strings.HasPrefix(text, "id: b\n") {
				text += "recovery:\n  dbpath: " + dbpath + "\n"
			}
			return text
		})
		defer c.stop()
		path := rollbackFile(t, dbpath)
		time.Sleep(20 * time.Second)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("archived while ROLLBACK: %v", err)
		}
		if n, _ := metric(t, c.regs["b"], "rsguard_supervisor_rollback_files_pending"); n != 1 {
			t.Errorf("pending files gauge %v, want 1", n)
		}
		w.kill(h2)
		w.clearState(h2)
		time.Sleep(20 * time.Second)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("archived while its mongod is down: %v", err)
		}

		w.revive(h2)
		archive := filepath.Join(c.dir, "b", "rollback-archive")
		waitFor(t, 30*time.Second, "the archive", func() bool {
			ms, _ := recovery.List(archive)
			return len(ms) > 0 && ms[0].Complete
		})
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("the rollback file is still in the dbpath: %v", err)
		}
		ms, err := recovery.List(archive)
		if err != nil || len(ms) != 1 || ms[0].Documents != 1 || !ms[0].Complete || ms[0].Member != h2 {
			t.Fatalf("archive %s: %+v, %v", archive, ms, err)
		}
		recs := c.findAudit("b", ActionArchiveRollback, ReasonRollbackFiles)
		if len(recs) != 1 || recs[0].Result != ResultExecuted || !strings.Contains(strings.Join(recs[0].Analysis.Evidence, "; "), "1 documents") {
			t.Errorf("b's audit: %+v", c.audit("b"))
		}
		if n, _ := metric(t, c.regs["b"], "rsguard_supervisor_rollback_documents_archived_total"); n != 1 {
			t.Errorf("documents archived counter %v, want 1", n)
		}
	})
}
