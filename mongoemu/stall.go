package mongoemu

import "time"

// wireStalls connects what looks like a stalled disk from outside to the storage layer: an
// fsyncLock, or the mongoemuDiskStall fail point ({data: {delayMS: N}} slows every storage write,
// {data: {blocked: true}} blocks writes until turned off). Reads and hello keep working.
func (n *Node) wireStalls() {
	apply := func() {
		data, on := n.fail.peek(fpDiskStall)
		blocked := n.fsync.locked() > 0
		var delay time.Duration
		if on {
			if b, _ := data.Lookup("blocked").BooleanOK(); b {
				blocked = true
			}
			if ms, ok := numberAsInt64(data.Lookup("delayMS")); ok {
				delay = time.Duration(ms) * time.Millisecond
			}
		}
		n.store.SetWriteDelay(delay)
		n.store.SetWriteBlocked(blocked)
	}
	n.fsync.onSet = func(bool) { apply() }
	n.fail.onChange = func(name string) {
		if name == fpDiskStall {
			apply()
		}
	}
}
