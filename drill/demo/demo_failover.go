package demo

import (
	"context"
	"fmt"
	"github.com/rsguard/rsguard/supervisor/statustext"
	"strings"
	"syscall"
	"time"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/supervisor"
)

// failoverResult is what the demo measured, relative to the kill.
type failoverResult struct {
	killed     string
	killedTerm int64
	killAt     time.Time
	killedPid  int

	detectedAt  time.Duration
	detected    election.Kind
	detectedBy  string
	actedAt     time.Duration
	action      string // e.g. "step_up(127.0.0.3:27017)"
	actionBy    string
	reason      election.Reason
	actionDone  string // "executed in 312ms" or "failed: ..."
	newPrimary  string
	newTerm     int64
	primaryAt   time.Duration
	firstWrite  time.Duration
	outage      time.Duration
	rejoinedAt  time.Duration
	restartedAt time.Duration // when the sidecar's controller had a new mongod running
	restartPid  int
	archived    string // what the former primary's sidecar archived, for the summary
	acked, lost int
	lostIDs     []int64
	problem     string // why --once fails; "" on success
}

// waitQuiet waits until every sidecar reports a healthy set with a coordinator, out of the quiet
// period after the last election (the local set waited for it once; this holds it for the
// workload's start too), and some writes are acknowledged. Right after an election the sidecars
// refuse to act for 12 s (MongoDB's election may still be settling), so killing the primary
// earlier shows nothing.
func (d *demo) waitQuiet(ctx context.Context) error {
	var coord string
	quiet := election.DefaultPolicy().ElectionQuiet + time.Second
	_, err := d.waitFor(ctx, 90*time.Second, "healthy verdict from every sidecar", func(ctx context.Context) (string, error) {
		for _, s := range d.cars {
			r, err := s.status(ctx, d.http)
			if err != nil {
				return "", fmt.Errorf("%s: %w", s.id, err)
			}
			if r.Analysis.Kind != election.Healthy || r.Coordinator == "" {
				return "", fmt.Errorf("%s: analysis %s, reason %s", s.id, r.Analysis.Kind, r.Decision.Reason)
			}
			// A kill inside the quiet period would be classified election_quiet_period and left to
			// MongoDB: wait it out, as an incident at a random time would find it.
			if l := r.Local; l != nil && time.Since(l.TermSince) < quiet {
				return "", fmt.Errorf("%s: term %d began %s ago", s.id, l.Term, time.Since(l.TermSince).Round(time.Second))
			}
			coord = r.Coordinator
		}
		if len(statsAround(d.load.snapshot(), time.Now()).acked) < 5 {
			return "", fmt.Errorf("fewer than 5 writes acknowledged")
		}
		return "", nil
	})
	if err != nil {
		return err
	}
	d.coord = coord
	d.say("all sidecars agree: healthy; coordinator %s (the lowest visible sidecar id; each action is carried out by the target member's own sidecar)", coord)
	if s := d.car(coord); s != nil {
		if r, err := s.status(ctx, d.http); err == nil {
			fmt.Fprintln(d.out)
			statustext.WriteMembers(d.out, r)
			fmt.Fprintln(d.out)
		}
	}
	return nil
}

func (d *demo) car(id string) *sidecar {
	for _, s := range d.cars {
		if s.id == id {
			return s
		}
	}
	return nil
}

// failover kills the primary's mongod, narrates until a new primary took a write (or the
// deadline), restarts the killed mongod and checks every acknowledged write.
func (d *demo) failover(ctx context.Context) (*failoverResult, error) {
	var victim *mongodHost
	var term int64
	for _, h := range d.hosts {
		if hl, err := h.hello(ctx); err == nil && hl.IsWritablePrimary {
			victim, term = h, hl.ElectionTerm
		}
	}
	if victim == nil {
		return nil, fmt.Errorf("demo: no primary to kill")
	}
	res := &failoverResult{killed: victim.name(), killedTerm: term}
	car := d.carOf(victim)
	pid, err := d.mongodPid(ctx, car)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(d.out, "\n=== SIGKILL the primary's mongod %s (pid %d, run by sidecar %s, term %d) at %s ===\n",
		victim.name(), pid, car.id, term, time.Now().Format("15:04:05.000"))
	fmt.Fprintf(d.out, "    MongoDB alone would elect a new primary after electionTimeoutMillis (10 s) plus a random offset of up to 1.5 s (15 %% of it).\n\n")
	res.killAt = time.Now()
	res.killedPid = pid
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return nil, fmt.Errorf("demo: kill %s (pid %d): %w", victim.name(), pid, err)
	}

	n := &narrator{d: d, res: res, victim: victim}
	n.watch(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	n.audit()
	n.rejoin(ctx, victim)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	n.verify(ctx)
	return res, nil
}

// narrator prints what happens after the kill, with times relative to it.
type narrator struct {
	d      *demo
	res    *failoverResult
	victim *mongodHost

	kinds   map[string]election.Kind
	reasons map[string]election.Reason
	actions map[string]time.Time
	down    map[string]bool
	coord   string
	failed  bool
}

func (n *narrator) at(t time.Time, format string, args ...any) {
	fmt.Fprintf(n.d.out, "%+8.3fs  %s\n", t.Sub(n.res.killAt).Seconds(), fmt.Sprintf(format, args...))
}

type statusUpdate struct {
	car *sidecar
	r   supervisor.StatusReport
	err error
	at  time.Time
}

// watch polls every sidecar's /v1/status and every surviving mongod until a new primary has
// acknowledged a write (plus a moment for the sidecars to say so), or the deadline.
func (n *narrator) watch(ctx context.Context) {
	d, res := n.d, n.res
	n.kinds, n.reasons = map[string]election.Kind{}, map[string]election.Reason{}
	n.actions, n.down, n.coord = map[string]time.Time{}, map[string]bool{}, d.coord
	for _, s := range d.cars {
		n.kinds[s.id], n.reasons[s.id] = election.Healthy, election.ReasonHealthy // as waitQuiet left them
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	updates := make(chan statusUpdate, 16)
	for _, s := range d.cars {
		go func() {
			for wctx.Err() == nil {
				r, err := s.status(wctx, d.http)
				select {
				case updates <- statusUpdate{car: s, r: r, err: err, at: time.Now()}:
				case <-wctx.Done():
					return
				}
				select {
				case <-time.After(50 * time.Millisecond):
				case <-wctx.Done():
				}
			}
		}()
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(failoverDeadline)
	var doneAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			res.problem = n.timeoutReason()
			n.at(time.Now(), "NO FAILOVER: %s", res.problem)
			return
		case u := <-updates:
			n.sidecarUpdate(u)
		case now := <-tick.C:
			n.pollPrimary(wctx)
			n.pollWrites()
			if doneAt.IsZero() && res.newPrimary != "" && res.firstWrite > 0 {
				doneAt = now
			}
			if !doneAt.IsZero() && now.Sub(doneAt) > 1500*time.Millisecond {
				return
			}
		}
	}
}

func (n *narrator) sidecarUpdate(u statusUpdate) {
	id, r, res := u.car.id, u.r, n.res
	if u.err != nil {
		if !n.down[id] {
			n.down[id] = true
			n.at(u.at, "%s does not answer: %v", id, u.err)
		}
		return
	}
	n.down[id] = false
	if r.Coordinator != n.coord && r.Coordinator != "" && r.IsCoordinator {
		n.coord = r.Coordinator
		n.at(u.at, "%s is the coordinator: it reports the quorum's decision; the target's own sidecar executes it", r.Coordinator)
	}
	if k := r.Analysis.Kind; k != n.kinds[id] {
		n.kinds[id] = k
		n.at(u.at, "%-8s %s: %s", id+":", k, statustext.ExplainKind(k))
		if k.Actionable() && res.detectedAt == 0 {
			res.detectedAt, res.detected, res.detectedBy = u.at.Sub(res.killAt), k, id
			for _, ev := range r.Analysis.Evidence {
				fmt.Fprintf(n.d.out, "           evidence: %s\n", ev)
			}
		}
	}
	// The coordinator's decisions, and the executor's: every sidecar decides, the addressed one acts.
	if dec := r.Decision; (r.IsCoordinator || !dec.Action.IsNone()) && dec.Reason != n.reasons[id] && !dec.At.Before(res.killAt) {
		n.reasons[id] = dec.Reason
		if dec.Action.IsNone() && dec.Reason == election.RefusedNotExecutor {
			n.at(u.at, "%-8s decides %s, carried out by %s", id+":", dec.Proposed, dec.Proposed.Executor)
		} else if dec.Action.IsNone() {
			n.at(u.at, "%-8s decides nothing, %s: %s", id+":", dec.Reason, statustext.ExplainReason(dec.Reason))
		} else {
			n.at(u.at, "%-8s decides %s, reason %s: %s", id+":", dec.Action, dec.Reason, statustext.ExplainReason(dec.Reason))
			if res.action == "" {
				res.actedAt, res.action, res.actionBy, res.reason = u.at.Sub(res.killAt), dec.Action.String(), id, dec.Reason
			}
		}
	}
	if la := r.LastAction; la != nil && la.At.After(res.killAt) && !la.At.Equal(n.actions[id]) {
		n.actions[id] = la.At
		n.at(u.at, "%-8s ran %s: %s in %dms", id+":", la.Action, la.Result, la.Millis)
		if res.actionDone == "" || res.actionBy == id {
			res.actionDone = fmt.Sprintf("%s in %dms", la.Result, la.Millis)
			if res.action == "" {
				res.actedAt, res.action, res.actionBy, res.reason = la.At.Sub(res.killAt), la.Action.String(), id, la.Reason
			}
		}
	}
}

// pollPrimary looks for a writable primary among the surviving mongods.
func (n *narrator) pollPrimary(ctx context.Context) {
	if n.res.newPrimary != "" {
		return
	}
	for _, h := range n.d.hosts {
		if h == n.victim {
			continue
		}
		hl, err := h.hello(ctx)
		if err != nil || !hl.IsWritablePrimary {
			continue
		}
		now := time.Now()
		n.res.newPrimary, n.res.newTerm, n.res.primaryAt = h.name(), hl.ElectionTerm, now.Sub(n.res.killAt)
		n.at(now, "%s is the new PRIMARY (term %d) and accepts writes", h.name(), hl.ElectionTerm)
		return
	}
}

// pollWrites reports the workload's first failure and first success after the kill.
func (n *narrator) pollWrites() {
	st := statsAround(n.d.load.snapshot(), n.res.killAt)
	if st.firstFail != nil && !n.failed {
		n.failed = true
		n.at(st.firstFail.end, "application write _id %d (sent at %+.3fs) failed: %s", st.firstFail.id,
			st.firstFail.start.Sub(n.res.killAt).Seconds(), shortErr(st.firstFail.err))
	}
	if st.firstOK != nil && n.res.firstWrite == 0 {
		n.res.firstWrite = st.firstOK.end.Sub(n.res.killAt)
		n.res.outage = st.outage(n.res.killAt)
		n.at(st.firstOK.end, "first w:\"majority\" write acknowledged after the kill (_id %d)", st.firstOK.id)
	}
}

func (n *narrator) timeoutReason() string {
	res := n.res
	switch {
	case res.newPrimary == "":
		return fmt.Sprintf("no new writable primary within %s of the kill (last analysis %v, last action %q)", failoverDeadline, n.kinds, res.action)
	default:
		return fmt.Sprintf("%s is primary but no w:\"majority\" write was acknowledged within %s of the kill", res.newPrimary, failoverDeadline)
	}
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.Index(s, ": "); i > 0 && strings.HasPrefix(s, "insert _id") {
		s = s[i+2:]
	}
	if len(s) > 140 {
		s = s[:140] + "..."
	}
	return s
}

// carOf is the sidecar beside h.
func (d *demo) carOf(h *mongodHost) *sidecar {
	for _, s := range d.cars {
		if s.host == h {
			return s
		}
	}
	return nil
}

// mongodPid asks the sidecar which process runs its mongod (status report, process.pid).
func (d *demo) mongodPid(ctx context.Context, car *sidecar) (int, error) {
	r, err := car.status(ctx, d.http)
	if err != nil {
		return 0, fmt.Errorf("demo: status of sidecar %s: %w", car.id, err)
	}
	if r.Process == nil || r.Process.Pid == 0 {
		return 0, fmt.Errorf("demo: sidecar %s reports no mongod process (process %+v)", car.id, r.Process)
	}
	return r.Process.Pid, nil
}
