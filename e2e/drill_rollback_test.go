package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/supervisor"
)

// TestDrillRollbackArchived: the primary's host is cut off from the other hosts (sidecars
// included) while a client on the test host keeps writing to it with w:1. rsguard fails over; the
// isolated primary steps down once it notices it lost the majority (spec §5.1). After the heal it
// rolls back (spec §7.7): its w:1 writes land in rollback files, which its sidecar moves into the
// rollback archive by itself. `supervisor rollback list` shows the entry and `rollback export`
// gives back every acknowledged w:1 write; no acknowledged w:"majority" write is lost and every
// member ends PRIMARY or SECONDARY, with no operator command.
func TestDrillRollbackArchived(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	fw, err := harness.NewFirewall(t)
	if err != nil {
		t.Fatal(err)
	}
	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	fw.Timeline = d.c.Timeline
	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{HostExtra: func(h *harness.Host) string {
		return fmt.Sprintf("recovery:\n  dbpath: %q\n", h.DBPath)
	}})
	cars.Start(t)
	cars.WaitSettled(t, drillSettleTimeout)
	p := d.WaitHealthy(t, drillRejoinTimeout)
	w := startWorkload(t, d, "rollback")
	waitAcks(t, w, 5)
	ctx := context.Background()
	oldW1 := directColl(t, p, "drill", "rollback_w1", writeconcern.W1())
	if _, err := oldW1.InsertOne(ctx, bson.D{{Key: "_id", Value: "w1-before"}}); err != nil {
		t.Fatal(err)
	}

	cut := time.Now()
	d.c.Timeline.Zero("isolate the primary's host %s (mongod and sidecar)", p)
	fw.Isolate(p, d.c.Others(p)...)
	var w1OK []string
	n := 0
	err = harness.Poll(ctx, 30*time.Second, func(ctx context.Context) error {
		n++
		id := fmt.Sprintf("w1-%03d", n)
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := oldW1.InsertOne(wctx, bson.D{{Key: "_id", Value: id}})
		cancel()
		if err == nil {
			w1OK = append(w1OK, id)
			return fmt.Errorf("%s still takes w:1 writes", p)
		}
		if c := codeOf(err); c == 10107 || c == 11602 || c == 189 {
			return nil
		}
		return fmt.Errorf("w:1 insert %s: %w", id, err)
	})
	if err != nil || len(w1OK) == 0 {
		t.Fatalf("the isolated primary took %d w:1 writes and then: %v", len(w1OK), err)
	}
	d.c.Timeline.Mark("isolated %s stepped down after %d acknowledged w:1 writes", p, len(w1OK))
	np, _, err := d.newPrimary(ctx, p, drillRejoinTimeout)
	if err != nil {
		t.Fatal(err)
	}
	d.c.Timeline.Mark("new primary %s", np)
	fw.HealAll()

	// The old primary rolls back, and its sidecar archives the files on its own.
	car := cars.ByHost(p)
	var entries []struct {
		ID        string `json:"id"`
		Member    string `json:"member"`
		Documents int    `json:"documents"`
		Complete  bool   `json:"complete"`
	}
	harness.WaitFor(t, drillRejoinTimeout, "the rollback archive of "+p.String(), func(ctx context.Context) error {
		out, err := exec.CommandContext(ctx, supBin, "rollback", "list", "--json", "--config", car.Config).Output()
		if err != nil {
			return fmt.Errorf("rollback list: %w", err)
		}
		if err := json.Unmarshal(out, &entries); err != nil {
			return err
		}
		if len(entries) == 0 || !entries[0].Complete {
			return fmt.Errorf("no complete entry yet: %s", out)
		}
		return nil
	})
	archivedAfter := time.Since(cut)
	if len(entries) != 1 || entries[0].Member != p.HostPort() {
		t.Fatalf("archive entries: %+v", entries)
	}
	// The manifest names the namespace once the sidecar could list the collections (a later
	// pass resolves what the archiving pass could not).
	var out []byte
	harness.WaitFor(t, 30*time.Second, "rollback export of drill.rollback_w1", func(ctx context.Context) error {
		var err error
		out, err = exec.CommandContext(ctx, supBin, "rollback", "export", "--config", car.Config, entries[0].ID, "--ns", "drill.rollback_w1").Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("rollback export: %w: %s", err, ee.Stderr)
		}
		return err
	})
	// Every acknowledged w:1 write is either in the rollback files (exported) or was replicated
	// before the cut took hold and survives on the new primary: none vanishes unrecorded.
	kept := directColl(t, np, "drill", "rollback_w1", writeconcern.Majority())
	rolled, replicated := 0, 0
	for _, id := range w1OK {
		if strings.Contains(string(out), `"_id":"`+id+`"`) {
			rolled++
			continue
		}
		if n, err := kept.CountDocuments(ctx, bson.D{{Key: "_id", Value: id}}); err == nil && n == 1 {
			replicated++
			continue
		}
		t.Errorf("acknowledged w:1 write %s is neither in the exported rollback documents nor on the new primary %s:\n%s", id, np, out)
	}
	if rolled == 0 {
		t.Errorf("no acknowledged w:1 write was rolled back (all %d replicated before the cut?)", len(w1OK))
	}
	files, err := rollbackFiles(p)
	if err != nil || len(files) != 0 {
		t.Errorf("rollback files left in the dbpath: %v (%v)", files, err)
	}
	var archived []supervisor.AuditRecord
	for _, r := range cars.AllAudit(t) {
		if r.Decision.Action == supervisor.ActionArchiveRollback {
			archived = append(archived, r)
		}
	}
	if len(archived) != 1 || archived[0].Sidecar != car.ID || archived[0].Result != supervisor.ResultExecuted {
		t.Errorf("archive audit lines: %+v", archived)
	}
	fp := d.WaitHealthy(t, drillRejoinTimeout)
	acked := w.verify(t, fp)

	rep := newDrillReport("Drill 10: former primary with unreplicated w:1 writes rolls back; its sidecar archives the files")
	rep.line("- %d acknowledged w:1 writes on the isolated primary %s; new primary %s", len(w1OK), p, np)
	rep.line("- archive entry %s: %d documents, complete %.1fs after the cut; %d acknowledged w:1 writes in `rollback export`, %d replicated before the cut took hold, none vanished", entries[0].ID, entries[0].Documents, archivedAfter.Seconds(), rolled, replicated)
	rep.line("- %d acknowledged w:majority writes, none lost; every member PRIMARY or SECONDARY at the end", acked)
	rep.publish(t)
}
