package demo

import (
	"context"
	"fmt"
	"github.com/rsguard/rsguard/supervisor/statustext"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/supervisor"
	"github.com/rsguard/rsguard/topology"
)

// audit prints what the sidecars' audit logs recorded since the kill: the durable, explainable
// record of every action (and of every new refusal).
func (n *narrator) audit() {
	fmt.Fprintln(n.d.out, "\naudit logs since the kill:")
	type line struct {
		id string
		r  supervisor.AuditRecord
	}
	var lines []line
	for _, s := range n.d.cars {
		recs, err := supervisor.ReadAudit(s.audit)
		if err != nil {
			fmt.Fprintf(n.d.out, "  %s: %v\n", s.id, err)
			continue
		}
		for _, r := range recs {
			if !r.Time.Before(n.res.killAt) {
				lines = append(lines, line{s.id, r})
			}
		}
	}
	slices.SortStableFunc(lines, func(a, b line) int { return a.r.Time.Compare(b.r.Time) })
	for _, l := range lines {
		r := l.r
		target := r.Decision.Target
		if target != "" {
			target = " " + target
		}
		fmt.Fprintf(n.d.out, "  %+8.3fs  %-8s %s%s %s (analysis %s, reason %s, %dms)\n", r.Time.Sub(n.res.killAt).Seconds(),
			l.id, r.Decision.Action, target, r.Result, r.Analysis.Kind, r.Reason, r.DurationMs)
	}
	found := len(lines) > 0
	if !found {
		fmt.Fprintln(n.d.out, "  (nothing: no sidecar acted or refused)")
	}
	fmt.Fprintln(n.d.out)
}

// rejoin follows the killed member back: its sidecar's process controller restarts mongod (the
// demo does nothing), mongod rejoins as SECONDARY, and the sidecar archives any rollback files.
func (n *narrator) rejoin(ctx context.Context, h *mongodHost) {
	car := n.d.carOf(h)
	n.at(time.Now(), "waiting for sidecar %s to restart mongod %s (process.controller exec, backoff 500ms); the demo does not touch it", car.id, h.name())
	var last topology.MemberState = -1
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if n.res.restartPid == 0 {
			if r, err := car.status(ctx, n.d.http); err == nil && r.Process != nil && r.Process.Running && r.Process.Pid != 0 && r.Process.Pid != n.res.killedPid {
				n.res.restartPid, n.res.restartedAt = r.Process.Pid, r.Process.StartedAt.Sub(n.res.killAt)
				n.at(r.Process.StartedAt, "sidecar %s restarted mongod %s (pid %d; %d exit(s) in its crash window)", car.id, h.name(), r.Process.Pid, r.Process.RecentExits)
			}
		}
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := h.status(sctx)
		cancel()
		if err == nil && st.MyState != last {
			last = st.MyState
			n.at(time.Now(), "%s is %s", h.name(), st.MyState)
			if st.MyState == topology.StateSecondary {
				n.res.rejoinedAt = time.Since(n.res.killAt)
				fmt.Fprintf(n.d.out, "           the former primary rejoined as a SECONDARY and replicates from the new primary; no operator command\n")
				n.archive(ctx, car)
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	if n.res.problem == "" && ctx.Err() == nil {
		n.res.problem = fmt.Sprintf("%s did not rejoin as SECONDARY within 60s (last state %s)", h.name(), last)
	}
}

// archive says what the former primary's sidecar did with rollback files: mongod writes them
// when the member rolls back writes no majority had (spec §7.7), and the sidecar moves them to
// its rollback archive once the member is SECONDARY. It waits a few archive passes.
func (n *narrator) archive(ctx context.Context, car *sidecar) {
	dir := filepath.Join(car.StateDir, config.DefaultRollbackArchiveName)
	deadline := time.Now().Add(3 * time.Second)
	for {
		ms, err := recovery.List(dir)
		if err == nil && len(ms) > 0 && ms[len(ms)-1].Complete {
			m := ms[len(ms)-1]
			n.res.archived = fmt.Sprintf("%d rolled-back documents archived by sidecar %s (entry %s)", m.Documents, car.id, m.ID)
			n.at(time.Now(), "the rollback undid %d writes no majority had; sidecar %s archived them: supervisor rollback show --config %s %s",
				m.Documents, car.id, car.config, m.ID)
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			files, _ := recovery.ScanRollback(car.host.dbpath())
			if len(files) > 0 {
				n.at(time.Now(), "%d rollback files in %s are not archived yet (see sidecar %s's log)", len(files), car.host.dbpath(), car.id)
				return
			}
			n.res.archived = "no rollback: every write the old primary took had replicated"
			n.at(time.Now(), "no rollback files: every write the old primary took had reached the new primary, nothing was rolled back")
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// verify reads back every acknowledged _id with a majority read: none may be missing.
func (n *narrator) verify(ctx context.Context) {
	st := statsAround(n.d.load.snapshot(), n.res.killAt)
	var got map[int64]bool
	_, err := n.d.waitFor(ctx, 20*time.Second, "read-back of the acknowledged writes", func(ctx context.Context) (string, error) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var err error
		got, err = n.d.client.IDs(rctx)
		return "", err
	})
	if err != nil {
		if n.res.problem == "" {
			n.res.problem = fmt.Sprintf("cannot read back the acknowledged writes: %v", err)
		}
		return
	}
	n.res.acked = len(st.acked)
	for _, id := range st.acked {
		if !got[id] {
			n.res.lostIDs = append(n.res.lostIDs, id)
		}
	}
	n.res.lost = len(n.res.lostIDs)
	if n.res.lost > 0 {
		n.res.problem = fmt.Sprintf("%d acknowledged writes are missing after the failover (_id %v)", n.res.lost, firstN(n.res.lostIDs, 10))
	}
}

func firstN(ids []int64, n int) []int64 { return ids[:min(len(ids), n)] }

// nativeElectionDelay is what MongoDB alone waits before a candidate even stands: the election
// timeout plus a random offset of up to randomizedElectionTimeoutOffsetLimit (0.15) of it
// (replication_coordinator_impl.cpp _getRandomizedElectionOffset_inlock): up to 1.5 s at the
// default electionTimeoutMillis of 10 s.
const nativeElectionDelay = "MongoDB alone: electionTimeoutMillis 10 s + a random offset of up to 15 % of it (1.5 s) before the election even starts"

// printSummary prints what happened, ending with the one line a script (or a test) reads.
func (d *demo) printSummary(res *failoverResult) {
	w := d.out
	secs := func(t time.Duration) string {
		if t <= 0 {
			return "     -"
		}
		return fmt.Sprintf("%+6.2fs", t.Seconds())
	}
	fmt.Fprintln(w, "\nsummary (times from the SIGKILL):")
	fmt.Fprintf(w, "  %s  killed the primary's mongod %s (term %d)\n", " +0.00s", res.killed, res.killedTerm)
	if res.action != "" && res.actedAt < res.detectedAt {
		res.detectedAt = res.actedAt // the status poll saw it late; the decision proves it was detected
	}
	if res.detectedAt > 0 {
		fmt.Fprintf(w, "  %s  detected: %s (first reported by %s)\n", secs(res.detectedAt), res.detected, res.detectedBy)
	} else {
		fmt.Fprintf(w, "  %s  the sidecars never classified the primary as lost\n", secs(0))
	}
	if res.action != "" {
		fmt.Fprintf(w, "  %s  decision: %s by sidecar %s, reason %s (%s)\n", secs(res.actedAt), res.action, res.actionBy, res.reason, res.actionDone)
	} else {
		fmt.Fprintf(w, "  %s  rsguard took no action: any new primary came from MongoDB's own election\n", secs(0))
	}
	if res.newPrimary != "" {
		fmt.Fprintf(w, "  %s  new writable primary %s (term %d)\n", secs(res.primaryAt), res.newPrimary, res.newTerm)
	}
	if res.firstWrite > 0 {
		fmt.Fprintf(w, "  %s  first w:\"majority\" write acknowledged\n", secs(res.firstWrite))
	}
	if res.restartedAt > 0 {
		fmt.Fprintf(w, "  %s  its sidecar restarted mongod %s (pid %d)\n", secs(res.restartedAt), res.killed, res.restartPid)
	}
	if res.rejoinedAt > 0 {
		fmt.Fprintf(w, "  %s  %s rejoined as SECONDARY\n", secs(res.rejoinedAt), res.killed)
	}
	if res.archived != "" {
		fmt.Fprintf(w, "           %s\n", res.archived)
	}
	fmt.Fprintf(w, "  writes: %d acknowledged, %d read back missing\n", res.acked, res.lost)
	fmt.Fprintf(w, "  %s\n", nativeElectionDelay)
}

// printVerdict is the demo's last line: the failover's figures, or what failed (the failover or
// the operator's part after it).
func (d *demo) printVerdict(res *failoverResult) {
	w := d.out
	if res.problem != "" {
		fmt.Fprintf(w, "failover: FAILED: %s\n", res.problem)
		return
	}
	fmt.Fprintf(w, "failover: new writable primary %s after %.2fs (first w:\"majority\" write acknowledged after %.2fs, writes failed or stalled for %.2fs, %d acknowledged writes lost)\n",
		res.newPrimary, res.primaryAt.Seconds(), res.firstWrite.Seconds(), res.outage.Seconds(), res.lost)
}

// watchForever prints a compact status every few seconds until Ctrl-C.
func (d *demo) watchForever(ctx context.Context) {
	fmt.Fprintln(d.out, "\nthe set keeps running; try:")
	self := d.exe
	if strings.Contains(self, "go-build") { // go run: the binary lives in a temporary directory
		self = "go run ./cmd/supervisor"
	}
	tok := d.cars[0].TokenFile
	fmt.Fprintf(d.out, "  open %s/ui/ (the dashboard; paste the admin token from %s to act)\n", d.cars[0].base(), tok)
	fmt.Fprintf(d.out, "  %s status --addr %s\n", self, d.cars[0].http)
	fmt.Fprintf(d.out, "  %s switchover --addr %s --token-file %s\n", self, d.cars[0].http, tok)
	fmt.Fprintf(d.out, "  %s history --addr %s\n", self, d.cars[0].http)
	var pids []string
	for _, h := range d.hosts {
		if pid, err := d.mongodPid(ctx, d.carOf(h)); err == nil {
			pids = append(pids, fmt.Sprintf("%s pid %d", h.name(), pid))
		}
	}
	fmt.Fprintf(d.out, "  kill -9 <pid of a mongod>   (%s): its sidecar restarts it\n", strings.Join(pids, ", "))
	fmt.Fprintf(d.out, "  %s rollback list --config %s\n", self, d.carOf(d.hosts[0]).config)
	fmt.Fprintln(d.out, "  a second automatic failover within 5m is refused (anti-flap, refused_anti_flap): MongoDB's own election takes over")
	fmt.Fprintln(d.out, "Ctrl-C stops everything.")
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.compactStatus(ctx)
	}
}

func (d *demo) compactStatus(ctx context.Context) {
	st := statsAround(d.load.snapshot(), time.Now())
	fmt.Fprintf(d.out, "\n%s  writes: %d acknowledged, %d failed\n", time.Now().Format("15:04:05"), st.ok, st.failed)
	ids := make([]string, 0, len(d.cars))
	for _, s := range d.cars {
		ids = append(ids, s.id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		r, err := d.car(id).status(ctx, d.http)
		if err != nil {
			continue
		}
		statustext.WriteMembers(d.out, r)
		fmt.Fprintf(d.out, "analysis %s, decision %s (%s), coordinator %s, quorum %d/%d\n", r.Analysis.Kind,
			r.Decision.Action, r.Decision.Reason, statustext.Dash(r.Coordinator), len(r.Quorum.Visible), r.Quorum.Configured)
		return
	}
	fmt.Fprintln(d.out, "no sidecar answers")
}
