package mongoemu

import (
	"context"
	"time"
)

// Names of the global S holds (rstl.go).
const (
	holdFsyncLock = "fsyncLock"
	holdDiskStall = "mongoemuDiskStall"
)

// wireStalls connects what looks like a stalled disk from outside to the locks and the storage
// layer: an fsyncLock, or the mongoemuDiskStall fail point ({data: {delayMS: N}} slows every
// storage write, {data: {blocked: true}} blocks writes until turned off). Reads and hello keep
// working. fsyncLock and the blocking stall hold the global lock in S (so the RSTL in IX: no
// state transition can complete, commands/fsync.cpp), and block the storage writes that take no
// lock in the emulator (vote and config persistence).
func (n *Node) wireStalls() {
	apply := func() {
		data, on := n.fail.peek(fpDiskStall)
		blocked := n.fsync.locked() > 0
		stalled := false
		var delay time.Duration
		if on {
			if b, _ := data.Lookup("blocked").BooleanOK(); b {
				blocked, stalled = true, true
			}
			if ms, ok := numberAsInt64(data.Lookup("delayMS")); ok {
				delay = time.Duration(ms) * time.Millisecond
			}
		}
		n.store.SetWriteDelay(delay)
		n.store.SetWriteBlocked(blocked)
		if n.fsync.locked() == 0 {
			n.locks.unhold(holdFsyncLock)
		}
		if stalled {
			// Writes in flight hold the global lock in IX: the S hold waits for them.
			_ = n.locks.hold(context.Background(), holdDiskStall, false)
		} else {
			n.locks.unhold(holdDiskStall)
		}
	}
	n.fsync.onSet = func(bool) { apply() }
	n.fail.onChange = func(name string) {
		if name == fpDiskStall {
			apply()
		}
	}
}
