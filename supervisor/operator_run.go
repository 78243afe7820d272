package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/notify"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/topology"
)

// The executor's side of operator requests (operator.go): take the requests addressed to this
// sidecar from the shared memory, run them, write the outcome back.

// Bounds of a switchover's and a failover's steps.
const (
	opPoll           = 25 * time.Millisecond
	opCatchUpWait    = switchoverCatchUpSecs * time.Second
	opStepUpWait     = 10 * time.Second
	opWritableWait   = 15 * time.Second
	opExpiryGrace    = 5 * time.Second
	opCommandTimeout = 5 * time.Second
	// opResyncSettle is how long a requested resync waits out a settling set (see
	// runResyncRequest).
	opResyncSettle = 30 * time.Second
)

// takeRequests is called after every decision: it takes the pending requests addressed to this
// sidecar, ends the ones a restart interrupted, and the expired ones it created.
func (s *Supervisor) takeRequests(ctx context.Context) {
	now := s.now()
	var run []topology.RequestRecord
	s.mu.Lock()
	changed := false
	for id, rec := range s.state.Memory.Requests {
		switch {
		case rec.Executor == s.id && rec.Stage == topology.RequestRunning && !s.opRunning[id]:
			s.endRequestLocked(&rec, now, api.StateFailed, requestInterrupted, "the executing sidecar restarted during the action; check the set and try again")
			changed = true
		case rec.Executor == s.id && rec.Stage == topology.RequestPending && now.Before(rec.Expires):
			if len(s.notReady) > 0 {
				s.endRequestLocked(&rec, now, api.StateRefused, string(ReasonNotReady), "the executing sidecar is not ready: "+strings.Join(s.notReady, "; "))
				changed = true
				continue
			}
			rec.Stage, rec.Started = topology.RequestRunning, now
			s.putRequestLocked(rec)
			s.opRunning[id] = true
			run = append(run, rec)
			changed = true
		case rec.Stage == topology.RequestPending && rec.By == s.id && now.After(rec.Expires.Add(opExpiryGrace)):
			s.endRequestLocked(&rec, now, api.StateFailed, requestExpired, "its executor "+rec.Executor+" did not take it in time")
			changed = true
		}
	}
	s.mu.Unlock()
	if changed {
		s.publish()
	}
	for _, rec := range run {
		s.inflight.Add(1)
		go func() {
			defer s.inflight.Done()
			s.runRequest(ctx, rec)
		}()
	}
}

func (s *Supervisor) putRequestLocked(rec topology.RequestRecord) {
	st := s.state
	st.Memory = election.MergeMemory(st.Memory, topology.Memory{Requests: map[string]topology.RequestRecord{rec.ID: rec}})
	s.setStateLocked(st)
}

func (s *Supervisor) endRequestLocked(rec *topology.RequestRecord, now time.Time, state, reason, msg string) {
	rec.Stage, rec.Ended, rec.State, rec.Reason, rec.Message = topology.RequestEnded, now, state, reason, msg
	if rec.Started.IsZero() {
		rec.Started = now
	}
	s.putRequestLocked(*rec)
}

// runRequest runs one request and records its outcome: in the memory, the audit log and the log.
func (s *Supervisor) runRequest(ctx context.Context, rec topology.RequestRecord) {
	s.logger.Warn("operator request running", "id", rec.ID, "action", rec.Action, "to", rec.To, "actor", rec.Actor)
	var state, reason, msg string
	switch rec.Action {
	case api.ActionSwitchover:
		state, reason, msg = s.runSwitchover(ctx, &rec)
	case api.ActionFailover:
		state, reason, msg = s.runFailover(ctx, &rec)
	case api.ActionResync:
		state, reason, msg = s.runResyncRequest(ctx, &rec)
	default:
		state, reason, msg = api.StateFailed, unknownAction, "unknown action "+rec.Action
	}
	now := s.now()
	s.mu.Lock()
	delete(s.opRunning, rec.ID)
	s.endRequestLocked(&rec, now, state, reason, msg)
	set := s.cfg.ReplicaSet
	s.mu.Unlock()
	s.publish()
	s.kickDecide()
	took := now.Sub(rec.Started)
	result := ResultExecuted
	switch state {
	case api.StateFailed:
		result = resultFailed + msg
	case api.StateRefused:
		result = ResultRefused
	}
	s.logger.Warn("operator request ended", "id", rec.ID, "action", rec.Action, "state", state, "reason", reason, "message", msg, "took", took)
	s.metrics.actions.WithLabelValues(rec.Action, map[bool]string{true: "ok", false: "failed"}[state == api.StateDone]).Inc()
	s.writeAudit(AuditRecord{Time: rec.Started, Sidecar: s.id, Set: set, Actor: rec.Actor, Why: rec.Why,
		Decision: AuditDecision{Action: election.ActionKind(rec.Action), Target: rec.To, Executor: s.id},
		Analysis: AuditAnalysis{Primary: rec.From, Evidence: stepLines(rec.Steps)},
		Reason:   election.Reason(reason), Result: result, DurationMs: took.Milliseconds()})
}

func stepLines(steps []topology.RequestStep) []string {
	var out []string
	for _, st := range steps {
		out = append(out, fmt.Sprintf("%s %s: %s", st.Do, st.Host, st.Result))
	}
	return out
}

// step records the result of the plan's steps named do (on host, "" for any) as the run goes,
// with how long it took since began (zero: not timed).
func (s *Supervisor) step(rec *topology.RequestRecord, do, host string, began time.Time, err error) {
	res := "ok"
	if err != nil {
		res = err.Error()
	}
	if !began.IsZero() {
		res += fmt.Sprintf(" (%s)", time.Since(began).Round(time.Millisecond))
	}
	// The memory holds the previous copy: never write through a shared backing array.
	rec.Steps = slices.Clone(rec.Steps)
	for i := range rec.Steps {
		if rec.Steps[i].Do == do && (host == "" || rec.Steps[i].Host == host) && rec.Steps[i].Result == "" {
			rec.Steps[i].Result = res
			break
		}
	}
	s.mu.Lock()
	s.putRequestLocked(*rec)
	s.mu.Unlock()
}

func (s *Supervisor) node(ctx context.Context, host string) (mongo.Node, error) {
	cctx, cancel := context.WithTimeout(ctx, opCommandTimeout)
	defer cancel()
	return s.nodes.get(cctx, host)
}

// runSwitchover: see planSwitchover. The set is left with an electable majority whatever
// fails: the others are unfrozen on every path.
func (s *Supervisor) runSwitchover(ctx context.Context, rec *topology.RequestRecord) (string, string, string) {
	failed := func(err error) (string, string, string) { return api.StateFailed, switchoverFailed, err.Error() }
	if rec.From != s.selfHost {
		return api.StateRefused, refusedNoExecutor, fmt.Sprintf("the primary moved since the plan: %s is not this sidecar's mongod (%s)", rec.From, s.selfHost)
	}
	primary, err := s.node(ctx, rec.From)
	if err != nil {
		return failed(err)
	}
	target, err := s.node(ctx, rec.To)
	if err != nil {
		return failed(err)
	}
	if err := s.preFailover(ctx, notify.Event{Kind: notify.KindSwitchover, Actor: rec.Actor, From: rec.From, To: rec.To,
		Summary: fmt.Sprintf("%s asked for a switchover from %s to %s", rec.Actor, rec.From, rec.To)}); err != nil {
		return api.StateRefused, string(ReasonVetoed), err.Error()
	}
	began := time.Now()
	if err := s.waitCaughtUp(ctx, primary, target, rec.To, began); err != nil {
		s.step(rec, "wait_catch_up", rec.To, began, err)
		return api.StateFailed, refusedTargetLagging, err.Error()
	}
	s.step(rec, "wait_catch_up", rec.To, began, nil)
	var frozen []string
	defer func() {
		for _, h := range frozen {
			began := time.Now()
			n, err := s.node(context.WithoutCancel(ctx), h)
			if err == nil {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opCommandTimeout)
				err = n.Freeze(cctx, 0)
				cancel()
			}
			s.step(rec, "unfreeze", h, began, err)
		}
	}()
	for _, st := range rec.Steps {
		if st.Do != "freeze" {
			continue
		}
		began := time.Now()
		n, err := s.node(ctx, st.Host)
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, opCommandTimeout)
			err = n.Freeze(cctx, switchoverFreezeSecs)
			cancel()
		}
		s.step(rec, "freeze", st.Host, began, err)
		if err != nil {
			return failed(fmt.Errorf("freeze %s: %w", st.Host, err))
		}
		frozen = append(frozen, st.Host)
	}
	began = time.Now()
	cctx, cancel := context.WithTimeout(ctx, (switchoverCatchUpSecs+5)*time.Second)
	err = primary.StepDown(cctx, switchoverStepDownSecs, switchoverCatchUpSecs*time.Second, false)
	cancel()
	s.step(rec, "step_down", rec.From, began, err)
	if err != nil {
		return failed(fmt.Errorf("step down %s: %w", rec.From, err))
	}
	s.mu.Lock()
	s.setStateLocked(s.state.RecordFreeze(rec.From, s.now().Add(switchoverStepDownSecs*time.Second), s.id))
	s.mu.Unlock()
	began = time.Now()
	err = s.stepUpAndWait(ctx, target)
	s.step(rec, "step_up", rec.To, began, err)
	if err != nil {
		return failed(fmt.Errorf("step up %s: %w", rec.To, err))
	}
	return api.StateDone, reasonSwitchoverDone, fmt.Sprintf("%s is the primary; %s stepped down for %ds", rec.To, rec.From, switchoverStepDownSecs)
}

// waitCaughtUp waits until target has applied what the primary had applied when it looked (the
// stepdown then waits for the rest, with writes stopped), and until the primary has had a
// heartbeat from the target since the switchover began. The primary's stepdown waits for a
// caught-up secondary it believes electable, and it learns a member's electability from its
// heartbeats (every heartbeatIntervalMillis, 2 s): a target frozen or unfrozen shortly before (the
// previous switchover froze it) would otherwise keep the writes stopped until the next heartbeat.
// Waiting here costs the command up to one heartbeat interval and the writes nothing. A status
// without lastHeartbeat (zero) is not waited on.
func (s *Supervisor) waitCaughtUp(ctx context.Context, primary, target mongo.Node, targetHost string, since time.Time) error {
	deadline := time.Now().Add(opCatchUpWait)
	var want, got topology.OpTime
	var heard time.Time
	for {
		cctx, cancel := context.WithTimeout(ctx, opCommandTimeout)
		ps, err := primary.Status(cctx)
		if err == nil {
			want = ps.Applied
			for _, m := range ps.Members {
				if m.Name == targetHost {
					heard = m.LastHeartbeat
				}
			}
			var ts mongo.Status
			ts, err = target.Status(cctx)
			got = ts.Applied
		}
		cancel()
		fresh := heard.IsZero() || heard.After(since)
		if err == nil && !want.After(got) && fresh {
			return nil
		}
		if time.Now().After(deadline) {
			switch {
			case err != nil:
				return fmt.Errorf("catch-up: %w", err)
			case !fresh:
				return fmt.Errorf("the primary has had no heartbeat from the target for %s (last %s)", opCatchUpWait, heard.UTC().Format(time.RFC3339Nano))
			}
			return fmt.Errorf("the target is still behind the primary after %s (applied %s, primary %s)", opCatchUpWait, got, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(opPoll):
		}
	}
}

// stepUpAndWait asks node to stand for election until it wins (a voter ahead of it refuses its
// vote until it catches up) and then until it accepts writes.
func (s *Supervisor) stepUpAndWait(ctx context.Context, node mongo.Node) error {
	deadline := time.Now().Add(opStepUpWait)
	var lastErr error
	for {
		cctx, cancel := context.WithTimeout(ctx, opCommandTimeout)
		h, err := node.Hello(cctx)
		if err == nil && h.IsWritablePrimary {
			cancel()
			return nil
		}
		if err == nil && !h.IsWritablePrimary && !h.ArbiterOnly && h.Primary != h.Me {
			// Not primary (nor primary-elect): stand.
			if err := node.StepUp(cctx, true); err != nil {
				lastErr = err
			}
		}
		cancel()
		if err != nil {
			lastErr = err
		}
		if time.Now().After(deadline) {
			if lastErr == nil {
				lastErr = errors.New("it did not become a writable primary")
			}
			return fmt.Errorf("after %s: %w", opStepUpWait, lastErr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(opPoll):
		}
	}
}

// runFailover steps the local mongod up (see planFailover).
func (s *Supervisor) runFailover(ctx context.Context, rec *topology.RequestRecord) (string, string, string) {
	if rec.To != s.selfHost {
		return api.StateRefused, refusedNoExecutor, fmt.Sprintf("%s is not this sidecar's mongod (%s)", rec.To, s.selfHost)
	}
	if err := s.preFailover(ctx, notify.Event{Kind: notify.KindFailover, Actor: rec.Actor, From: rec.From, To: rec.To,
		Summary: fmt.Sprintf("%s asked for a failover to %s", rec.Actor, rec.To)}); err != nil {
		return api.StateRefused, string(ReasonVetoed), err.Error()
	}
	began := time.Now()
	n, err := s.node(ctx, rec.To)
	if err == nil {
		err = s.stepUpAndWait(ctx, n)
	}
	s.step(rec, "step_up", rec.To, began, err)
	if err != nil {
		return api.StateFailed, failoverFailed, err.Error()
	}
	return api.StateDone, reasonFailoverDone, rec.To + " is the primary"
}

// runResyncRequest starts the resync plan of the local member (the automatic resync's plan and
// lease, resync.go) and waits until it ends.
func (s *Supervisor) runResyncRequest(ctx context.Context, rec *topology.RequestRecord) (string, string, string) {
	now := s.now()
	if rec.To != s.selfHost {
		return api.StateRefused, refusedNoExecutor, fmt.Sprintf("%s is not this sidecar's mongod (%s)", rec.To, s.selfHost)
	}
	if s.rs.resyncer == nil || s.cfg.Recovery.DBPath == "" {
		return api.StateRefused, string(recovery.RefusedResyncNoController), "this sidecar cannot resync: it needs process.controller and recovery.dbpath"
	}
	// Right after a failover or a switchover the set's analysis is still settling (election
	// quiet) and the member's word on the primary's optime is a heartbeat old: a refusal for
	// those reasons is retried for a while, with optimes read from the mongods themselves.
	var in recovery.ResyncInput
	var d recovery.ResyncDecision
	deadline := time.Now().Add(opResyncSettle)
	for {
		in, _ = s.resyncInput(s.now())
		in.Requested = true
		s.freshOpTimes(ctx, &in)
		d = recovery.DecideResync(in)
		transient := d.Reason == recovery.RefusedResyncFailover || d.Reason == recovery.RefusedResyncNoPrimary ||
			d.Reason == recovery.RefusedResyncFreshest
		if d.Start || !transient || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return api.StateFailed, requestInterrupted, ctx.Err().Error()
		case <-time.After(500 * time.Millisecond):
		}
	}
	if d.Start {
		d = decideWithDisk(&in, s.cfg.Recovery.DBPath)
	}
	if !d.Start {
		return api.StateRefused, string(d.Reason), strings.Join(d.Evidence, "; ")
	}
	s.mu.Lock()
	if s.rs.plan != nil {
		s.mu.Unlock()
		return api.StateRefused, string(recovery.RefusedResyncElsewhere), "a resync of this member is already running"
	}
	s.rs.claim = topology.ResyncRecord{Member: s.selfHost, By: s.id, Started: now, Until: now.Add(resyncLease)}
	s.rs.claimAt = now
	s.setStateLocked(s.state.RecordResync(s.rs.claim))
	p := recovery.NewResyncPlan(s.selfHost, s.cfg.Recovery.DBPath, d, now)
	if err := recovery.SaveResyncPlan(s.cfg.StateDir, p); err != nil {
		s.releaseLeaseLocked(now)
		s.mu.Unlock()
		return api.StateFailed, resyncFailed, err.Error()
	}
	s.rs.plan, s.rs.refusal = &p, ""
	s.rsMetrics.active.Set(1)
	s.mu.Unlock()
	s.publish()
	s.logger.Warn("resync started on request", "plan", p.ID, "id", rec.ID, "actor", rec.Actor)
	for {
		select {
		case <-ctx.Done():
			return api.StateFailed, requestInterrupted, "the sidecar stopped; the resync resumes when it starts again"
		case <-time.After(250 * time.Millisecond):
		}
		s.mu.Lock()
		last, running := s.rs.last, s.rs.plan != nil
		s.mu.Unlock()
		if running || last == nil || last.ID != p.ID {
			continue
		}
		for _, st := range []string{"stop", "move_aside", "start", "initial_sync"} {
			var err error
			if last.Step == recovery.StepFailed {
				err = errors.New(last.Error)
			}
			s.step(rec, st, rec.To, time.Time{}, err)
		}
		if last.Step == recovery.StepFailed {
			return api.StateFailed, resyncFailed, last.Error
		}
		return api.StateDone, reasonResyncDone, fmt.Sprintf("%s resynced in %s; the old dbpath is kept at %s", rec.To, last.Finished.Sub(last.Started).Round(time.Second), last.Aside)
	}
}

// freshOpTimes replaces the primary's and the member's optimes in in with what the mongods say
// now (best effort: on an error the observed ones stay).
func (s *Supervisor) freshOpTimes(ctx context.Context, in *recovery.ResyncInput) {
	if in.Primary != "" {
		if n, err := s.node(ctx, in.Primary); err == nil {
			cctx, cancel := context.WithTimeout(ctx, opCommandTimeout)
			if st, err := n.Status(cctx); err == nil && !st.Applied.IsNull() {
				in.PrimaryOpTime = st.Applied
			}
			cancel()
		}
	}
	if n, err := s.node(ctx, in.Self); err == nil {
		cctx, cancel := context.WithTimeout(ctx, opCommandTimeout)
		if st, err := n.Status(cctx); err == nil && !st.Applied.IsNull() {
			in.SelfOpTime = st.Applied
		}
		cancel()
	}
}
