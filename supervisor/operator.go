package supervisor

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// Operator actions (POST /v1/...): Act checks the request, plans it from this sidecar's view
// and, unless it is a dry run, carries it out. Pause, resume and acknowledge are records of the
// shared memory, written here. A switchover, failover or resync runs on the sidecar that owns
// the mongod it acts on: the request travels there as a record of the shared memory
// (topology.RequestRecord), its executor takes it, runs it (operator_run.go) and writes the
// outcome back, which every sidecar then holds.

// Reason codes of operator actions, in the same vocabulary as the automatic ones.
const (
	reasonSwitchoverDone     = "switchover_done"
	reasonFailoverDone       = "failover_done"
	reasonResyncDone         = "resync_done"
	reasonPaused             = "operator_paused"
	reasonResumed            = "operator_resumed"
	reasonAcknowledged       = "operator_acknowledged"
	refusedNoPrimary         = "refused_no_primary"
	refusedNoQuorum          = "refused_no_quorum"
	refusedBusy              = "refused_operator_action"
	refusedTargetPrimary     = "refused_target_is_primary"
	refusedTargetUnhealthy   = "refused_target_unhealthy"
	refusedTargetUnelectable = "refused_target_not_electable"
	refusedTargetLagging     = "refused_target_lagging"
	refusedTargetFrozen      = "refused_target_frozen"
	refusedNoCandidate       = "refused_no_candidate"
	refusedNoExecutor        = "refused_no_executor"
	refusedPrimaryHealthy    = "refused_primary_healthy"
	refusedMemberPrimary     = "refused_member_is_primary"
	refusedAlreadyPaused     = "refused_already_paused"
	refusedNotPaused         = "refused_not_paused"
	refusedNothingToAck      = "refused_nothing_to_acknowledge"
	requestExpired           = "request_expired"
	requestInterrupted       = "request_interrupted"
	switchoverFailed         = "switchover_failed"
	failoverFailed           = "failover_failed"
	resyncFailed             = "resync_failed"
	unknownAction            = "unknown_action"
)

// requestTTL is how long a request waits for its executor to take it.
const requestTTL = 30 * time.Second

// Act runs (or with dryRun, plans) an operator action. member is the path's member for a
// resync. Bad input is an *api.Error naming the field; a refusal is an *api.Error with the plan.
func (s *Supervisor) Act(ctx context.Context, action, member string, req api.ActionRequest, dryRun bool) (api.ActionResult, error) {
	if err := checkFields(action, member, req); err != nil {
		return api.ActionResult{}, err
	}
	now := s.now()
	r := api.ActionResult{ID: newRequestID(), Action: action, Actor: operatorName(req.Actor),
		Why: strings.TrimSpace(req.Why), DryRun: dryRun, Created: now}
	switch action {
	case api.ActionPause, api.ActionResume, api.ActionAcknowledge:
		return s.actOnMemory(r)
	}
	c := s.Cluster()
	s.mu.Lock()
	mem, maxLag := s.state.Memory, s.cfg.Failover.Candidates.MaxLag
	s.mu.Unlock()
	var err error
	switch action {
	case api.ActionSwitchover:
		err = planSwitchover(&r, c, mem, req.To, maxLag, now)
	case api.ActionFailover:
		err = planFailover(&r, c, mem, req.To, req.Force, maxLag, now)
	case api.ActionResync:
		err = planResync(&r, c, mem, member, now)
	}
	if err != nil {
		return api.ActionResult{}, err
	}
	if r.State == api.StateRefused {
		return r, api.Refused(r)
	}
	if dryRun {
		r.State = api.StatePlanned
		return r, nil
	}
	rec := topology.RequestRecord{ID: r.ID, Action: action, To: r.To, Force: req.Force, Actor: r.Actor, Why: r.Why,
		Executor: r.Executor, By: s.id, Created: now, Expires: now.Add(requestTTL), From: r.From, Steps: toRecordSteps(r.Steps)}
	s.mu.Lock()
	st := s.state
	st.Memory = election.MergeMemory(st.Memory, topology.Memory{Requests: map[string]topology.RequestRecord{rec.ID: rec}})
	s.setStateLocked(st)
	s.mu.Unlock()
	s.logger.Warn("operator request accepted", "id", rec.ID, "action", action, "to", rec.To, "executor", rec.Executor, "actor", rec.Actor)
	s.publish()
	s.kickDecide()
	r.State = api.StatePending
	return r, nil
}

// Request is the operator request id as the shared memory holds it.
func (s *Supervisor) Request(id string) (api.ActionResult, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.state.Memory.Requests[id]
	if !ok {
		return api.ActionResult{}, false
	}
	return resultOf(rec, s.now()), true
}

// checkFields refuses a request field the action does not take, naming it.
func checkFields(action, member string, req api.ActionRequest) error {
	switch action {
	case api.ActionSwitchover:
		if req.Force {
			return api.BadField("force", "switchover takes no force: a planned switchover never skips its checks (use failover)")
		}
	case api.ActionFailover:
		if strings.TrimSpace(req.To) == "" {
			return api.BadField("to", "failover needs the member to hand the primary to (host:port)")
		}
	case api.ActionResync:
		if strings.TrimSpace(member) == "" {
			return api.BadField("member", "resync needs the member to resync: /v1/resync/{host:port}")
		}
		fallthrough
	case api.ActionPause, api.ActionResume, api.ActionAcknowledge:
		if req.To != "" {
			return api.BadField("to", "%s takes no target", action)
		}
		if req.Force {
			return api.BadField("force", "%s takes no force", action)
		}
	default:
		return api.NotFound("action", "unknown action %q", action)
	}
	return nil
}

// actOnMemory pauses, resumes or acknowledges: a record of the shared memory, written here.
func (s *Supervisor) actOnMemory(r api.ActionResult) (api.ActionResult, error) {
	s.mu.Lock()
	paused := s.state.Paused()
	last, ackAt := s.state.LastFailover, s.state.AckAt
	s.mu.Unlock()
	refuse := func(reason, msg string) (api.ActionResult, error) {
		r.State, r.Reason, r.Message = api.StateRefused, reason, msg
		return r, api.Refused(r)
	}
	r.Executor = s.id
	switch r.Action {
	case api.ActionPause:
		if paused {
			return refuse(refusedAlreadyPaused, "automatic actions are already paused")
		}
		r.Reason, r.Steps = reasonPaused, []api.Step{{Do: "pause", Detail: "record the pause in the shared memory: every sidecar refuses automatic actions"}}
	case api.ActionResume:
		if !paused {
			return refuse(refusedNotPaused, "automatic actions are not paused")
		}
		r.Reason, r.Steps = reasonResumed, []api.Step{{Do: "resume", Detail: "lift the pause on every sidecar"}}
	case api.ActionAcknowledge:
		if last.At.IsZero() || !ackAt.Before(last.At) {
			return refuse(refusedNothingToAck, "no automatic failover is waiting for an acknowledgement")
		}
		r.Reason, r.To = reasonAcknowledged, last.To
		r.Steps = []api.Step{{Do: "acknowledge", Host: last.To, Detail: "lift the anti-flap block left by the failover of " + last.At.UTC().Format(time.RFC3339)}}
	}
	if r.DryRun {
		r.State = api.StatePlanned
		return r, nil
	}
	var err error
	switch r.Action {
	case api.ActionPause:
		err = s.Pause(r.Actor, r.Why)
	case api.ActionResume:
		err = s.Resume(r.Actor, r.Why)
	case api.ActionAcknowledge:
		err = s.Acknowledge(r.Actor)
	}
	r.State, r.Started, r.Ended = api.StateDone, r.Created, s.now()
	r.Steps[0].Result = "ok"
	if err != nil {
		// The record is in the memory; only the audit line failed.
		r.Message = err.Error()
	}
	return r, nil
}

func newRequestID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func resultOf(rec topology.RequestRecord, now time.Time) api.ActionResult {
	r := api.ActionResult{ID: rec.ID, Action: rec.Action, Actor: rec.Actor, Why: rec.Why, Executor: rec.Executor,
		From: rec.From, To: rec.To, Created: rec.Created, Started: rec.Started, Ended: rec.Ended,
		Reason: rec.Reason, Message: rec.Message}
	for _, st := range rec.Steps {
		r.Steps = append(r.Steps, api.Step{Do: st.Do, Host: st.Host, Detail: st.Detail, Result: st.Result})
	}
	switch {
	case rec.Stage == topology.RequestEnded:
		r.State = rec.State
		r.DurationMs = rec.Ended.Sub(rec.Started).Milliseconds()
	case rec.Stage == topology.RequestRunning:
		r.State = api.StateRunning
	case now.After(rec.Expires):
		r.State, r.Reason, r.Message = api.StateFailed, requestExpired, "its executor "+rec.Executor+" did not take it in time"
	default:
		r.State = api.StatePending
	}
	return r
}

func toRecordSteps(steps []api.Step) []topology.RequestStep {
	out := make([]topology.RequestStep, 0, len(steps))
	for _, st := range steps {
		out = append(out, topology.RequestStep{Do: st.Do, Host: st.Host, Detail: st.Detail, Result: st.Result})
	}
	return out
}

// requestsNewestFirst lists the memory's requests for the cluster view.
func requestsNewestFirst(m topology.Memory, now time.Time) []api.ActionResult {
	var out []api.ActionResult
	for _, rec := range m.Requests {
		out = append(out, resultOf(rec, now))
	}
	slices.SortFunc(out, func(a, b api.ActionResult) int { return cmp.Or(b.Created.Compare(a.Created), cmp.Compare(a.ID, b.ID)) })
	return out
}
