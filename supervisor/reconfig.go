package supervisor

import (
	"context"
	"fmt"
	"time"

	"github.com/rsguard/rsguard/mongo"
)

// reconfigTimeout bounds a recovery reconfig on the local primary (a safe reconfig waits for
// the previous config to be committed, spec §4.5).
const reconfigTimeout = 30 * time.Second

// runReconfig sends cfg as a safe (never force) replSetReconfig to the local mongod, the primary,
// for the recovery planners (PSA mitigation, re-add): it completes rec with the outcome and the
// new version, writes it to the audit log, logs as what, and lets the decision loop look again.
// It returns the error, nil on success.
func (s *Supervisor) runReconfig(ctx context.Context, what string, cfg mongo.ReplConfig, rec AuditRecord) error {
	node, err := s.nodes.get(ctx, s.selfHost)
	if err == nil {
		rctx, cancel := context.WithTimeout(ctx, reconfigTimeout)
		err = node.Reconfig(rctx, cfg, false)
		cancel()
	}
	rec.Result = ResultExecuted
	if err != nil {
		rec.Result = resultFailed + err.Error()
		s.logger.Error(what+" reconfig failed", "action", rec.Decision.Action, "member", rec.Decision.Target, "err", err)
	} else {
		s.logger.Warn(what+" reconfig", "action", rec.Decision.Action, "member", rec.Decision.Target, "reason", rec.Reason,
			"evidence", rec.Analysis.Evidence, "version", cfg.Version)
	}
	rec.Analysis.Evidence = append(rec.Analysis.Evidence, fmt.Sprintf("config version %d", cfg.Version))
	s.writeAudit(rec)
	s.kickDecide()
	return err
}
