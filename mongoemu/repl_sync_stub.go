package mongoemu

import "time"

// initialSyncProgress is reported as initialSyncStatus (spec §7.6).
type initialSyncProgress struct {
	start time.Time
}

func (p *initialSyncProgress) doc(now time.Time) any { return nil }

func (rc *replCoord) syncLoop() { defer rc.wg.Done(); <-rc.stopCh }
