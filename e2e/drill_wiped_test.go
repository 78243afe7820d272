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
	// Frozen so that nothing is written while the files go, then wiped and killed.
	v, pids := frozenSecondary(t, d, p)
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
	coll := v.Client(t).Database("drill").Collection(w.coll)
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

// corruptDrill: a secondary's data file is overwritten with garbage under its mongod, which is
// then killed. Restarted by its sidecar, mongod cannot open its data and exits again and again
// (its log says why); the sidecar classifies the crash loop as data_corrupt and resyncs the member
// (moves the dbpath aside, starts it empty, follows the initial sync). It returns the time from
// the kill to SECONDARY and the resync's audit result.
func corruptDrill(t *testing.T, d *drillSet, p *harness.Host, cars *sidecarSet) (time.Duration, string) {
	t.Helper()
	v, pids := frozenSecondary(t, d, p)
	ents, err := os.ReadDir(v.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	for _, e := range ents {
		if e.Type().IsRegular() && e.Name() != "mongod.lock" {
			if err := os.WriteFile(filepath.Join(v.DBPath, e.Name()), garbage, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	t0 := time.Now()
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d.c.Timeline.Mark("%s: data files overwritten, mongod killed", v)
	car := cars.ByHost(v)
	result := ""
	harness.WaitFor(t, 2*drillRejoinTimeout, v.String()+" resynced after its data files were corrupted", func(ctx context.Context) error {
		r, err := cars.Status(ctx, car)
		if err != nil {
			return err
		}
		if r.Resync == nil || r.Resync.Plan == nil || r.Resync.Plan.Step != "done" {
			return fmt.Errorf("resync of %s: %+v", v, r.Resync)
		}
		st, err := d.c.State(ctx, v)
		if err != nil || st != "SECONDARY" {
			return fmt.Errorf("%s is %s (%v)", v, st, err)
		}
		result = fmt.Sprintf("plan %s, reason %s: %v", r.Resync.Plan.ID, r.Resync.Plan.Reason, r.Resync.Plan.Why)
		return nil
	})
	d.c.Timeline.Mark("%s resynced", v)
	return time.Since(t0), result
}

// frozenSecondary SIGSTOPs the mongod of a data member other than p (run by its sidecar) and
// returns the host and its pids.
func frozenSecondary(t *testing.T, d *drillSet, p *harness.Host) (*harness.Host, []int) {
	t.Helper()
	for _, h := range d.c.Others(p) {
		if h.Arbiter {
			continue
		}
		pids, err := h.MongodPIDs()
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) == 1 {
			if err := syscall.Kill(pids[0], syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			return h, pids
		}
	}
	t.Fatalf("no secondary run by its sidecar to freeze")
	return nil, nil
}
