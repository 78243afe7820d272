package supervisor

import (
	"context"
	"sync/atomic"
)

// What a pause (Supervisor.Pause, the shared memory's pause record) means for the local mongod's
// process, as Patroni's maintenance mode: a mongod that exits while automatic actions are
// paused is left down (a DBA stopping it for maintenance must not see it come back), and
// started again once someone resumes. Fenced and adopted-then-gone mongods wait the same way.

// pauseHold is set while the local mongod is kept down by a pause.
type pauseHold struct{ held atomic.Bool }

// paused reports whether automatic actions are paused, per the shared memory.
func (s *Supervisor) paused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Paused()
}

// holdForPause is called on an unwanted exit: while paused, it stops the controller's restart.
func (s *Supervisor) holdForPause(ctx context.Context) bool {
	if !s.paused() {
		return false
	}
	if err := s.ctrl.Stop(ctx); err != nil {
		s.logger.Error("cannot keep the local mongod down during the pause", "mongod", s.selfHost, "err", err)
		return false
	}
	s.pauseHold.held.Store(true)
	s.logger.Warn("local mongod exited while automatic actions are paused: it stays down until someone resumes",
		"mongod", s.selfHost)
	return true
}

// releaseAfterPause starts the mongod a pause kept down once the pause is over.
func (s *Supervisor) releaseAfterPause(ctx context.Context) {
	if !s.pauseHold.held.Load() || s.paused() || s.fenced.Load() || s.resyncHoldsProcess() {
		return
	}
	s.logger.Warn("automatic actions resumed: starting the local mongod the pause kept down", "mongod", s.selfHost)
	if err := s.ctrl.Start(ctx); err != nil {
		s.logger.Error("cannot start the local mongod", "mongod", s.selfHost, "err", err)
		return
	}
	s.pauseHold.held.Store(false)
	s.procMetrics.running.Set(1)
}
