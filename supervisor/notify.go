package supervisor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/notify"
)

// Notifications (config notifications, hooks; package notify). Every sidecar derives the same
// history, so the set's events go to the webhooks from one sidecar: the coordinator (every
// sidecar while there is none, a partition: a duplicate, with the same event id, beats silence).
// Hook scripts run beside the member they concern: post_failover on the new primary's sidecar
// (where a VIP or a DNS record is moved to), on_resync on the resyncing member's, on_rollback on
// the sidecar that archived the files; pre_failover on the sidecar that is about to act.

// ReasonVetoed: a pre_failover hook said no (a non-zero exit, a timeout with on_timeout: veto).
const ReasonVetoed election.Reason = "refused_hook_veto"

// notifyHistory sends the new history events where they belong.
func (s *Supervisor) notifyHistory(fresh []api.Event) {
	if s.notifier == nil || len(fresh) == 0 {
		return
	}
	s.mu.Lock()
	sender := s.lastSnap == nil || s.lastSnap.Coordinator() == "" || s.lastSnap.IsCoordinator()
	self := s.selfHost
	s.mu.Unlock()
	for _, ev := range fresh {
		ne := notifyEvent(ev)
		if sender {
			s.notifier.Webhooks(ne)
		}
		switch ne.Kind {
		case notify.KindFailover, notify.KindSwitchover:
			if self != "" && ne.To == self {
				s.notifier.Hooks(ne)
			}
		case notify.KindResyncStarted, notify.KindResyncEnded:
			if self != "" && ne.Member == self {
				s.notifier.Hooks(ne)
			}
		}
	}
}

// notifyEvent maps a history event to a notification: an operator's switchover or failover
// that succeeded is a switchover or failover (post_failover runs on it), any other operator
// action an action.
func notifyEvent(ev api.Event) notify.Event {
	ne := notify.Event{ID: ev.ID, Time: ev.Time, Kind: notify.Kind(ev.Kind), Summary: ev.Summary, Reason: ev.Reason,
		Actor: ev.Actor, Member: ev.Member, From: ev.From, To: ev.To, Term: ev.Term}
	if ne.Actor == actorAuto {
		ne.Actor = "rsguard"
	}
	if r := ev.Request; r != nil {
		ne.Fields = map[string]string{"action": r.Action, "state": r.State, "took_ms": fmt.Sprint(r.DurationMs), "request": r.ID}
		if r.State == api.StateDone {
			switch r.Action {
			case api.ActionSwitchover:
				ne.Kind = notify.KindSwitchover
			case api.ActionFailover:
				ne.Kind = notify.KindFailover
			}
		}
	}
	return ne
}

// preFailover asks the pre_failover hook before this sidecar changes the primary; a veto is an
// error saying so, with the hook's own words.
func (s *Supervisor) preFailover(ctx context.Context, ev notify.Event) error {
	if s.notifier == nil {
		return nil
	}
	err := s.notifier.PreFailover(ctx, ev)
	var veto *notify.VetoError
	if errors.As(err, &veto) {
		s.logger.Warn("pre_failover hook vetoed the action", "from", ev.From, "to", ev.To, "veto", veto.Error())
		return fmt.Errorf("%s: %w", ReasonVetoed, err)
	}
	return err
}

// recordRollback puts an archived rollback in this sidecar's history (only the member's own
// sidecar knows of it) and tells the webhooks and the on_rollback hook.
func (s *Supervisor) recordRollback(entry string, docs, files int, term int64, at time.Time) {
	ev := api.Event{ID: "rollback:" + s.selfHost + ":" + entry, Time: at, Kind: api.EventRollbackArchived, Member: s.selfHost,
		Term: term, Reason: string(ReasonRollbackFiles),
		Summary: fmt.Sprintf("%s rolled back %d documents (%d files); archived as %s for review (supervisor rollback show %s)", s.selfHost, docs, files, entry, entry)}
	for _, fresh := range s.hist.add([]api.Event{ev}) {
		if s.notifier != nil {
			ne := notifyEvent(fresh)
			ne.Fields = map[string]string{"entry": entry, "documents": fmt.Sprint(docs)}
			s.notifier.Notify(ne)
		}
	}
}
