package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/e2e/harness"
)

// wipeDrill: a secondary's dbpath is wiped under its mongod (a disk replaced, a careless rm) and
// the process dies. Its sidecar's exec controller starts mongod again on the empty dbpath; the
// member, still in the set's config, gets the config from the primary's heartbeats and runs an
// initial sync by itself (spec §7.6), back to SECONDARY with every acknowledged document, with no
// operator command. It returns the time from the kill to SECONDARY. Part of the exec drill, which
// has the set whose mongods the sidecars run.
func wipeDrill(t *testing.T, d *drillSet, p *harness.Host, w *workload) (time.Duration, int) {
	t.Helper()
	var v *harness.Host
	for _, h := range d.c.Others(p) {
		if !h.Arbiter && len(mongodPids(h.DBPath)) == 1 {
			v = h
			break
		}
	}
	if v == nil {
		t.Fatalf("no secondary with one mongod to wipe")
	}
	pids := mongodPids(v.DBPath)
	// Freeze it so that nothing is written while the files go, then wipe and kill.
	if err := syscall.Kill(pids[0], syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(v.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(v.DBPath, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now()
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d.c.Timeline.Mark("%s: dbpath wiped, mongod killed", v)
	harness.WaitFor(t, 2*drillRejoinTimeout, v.String()+" SECONDARY again on the wiped dbpath", func(ctx context.Context) error {
		st, err := d.c.State(ctx, v)
		if err != nil {
			return err
		}
		if st != "SECONDARY" {
			return fmt.Errorf("%s is %s", v, st)
		}
		return nil
	})
	back := time.Since(t0)
	d.c.Timeline.Mark("%s SECONDARY", v)
	acked := w.verify(t, p)
	coll := v.Client(t).Database("drill").Collection(w.coll.Name())
	harness.WaitFor(t, 30*time.Second, "the acknowledged writes on "+v.String(), func(ctx context.Context) error {
		n, err := coll.CountDocuments(ctx, bson.D{})
		if err != nil {
			return err
		}
		if n < int64(acked) {
			return fmt.Errorf("%d documents on %s, %d acknowledged", n, v, acked)
		}
		return nil
	})
	return back, acked
}
