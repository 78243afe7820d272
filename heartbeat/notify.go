package heartbeat

import "bytes"

// Updates delivers a signal (coalesced: one pending at most) each time a view whose content
// changed arrives from another sidecar, by any path. A consumer that reacts to news in the views
// (a peer's mongod refusing connections, a primary lost) does so at once instead of polling;
// staleness, which no message announces, is still the consumer's own clock's business. The
// channel is never closed: select on it together with a context.
func (g *Gossip) Updates() <-chan struct{} { return g.updates }

func (g *Gossip) notifyUpdate() {
	select {
	case g.updates <- struct{}{}:
	default:
	}
}

// contentChangedLocked reports whether the entry held for origin now carries other view bytes
// than before (a new entry counts): a mere fresh copy of the same view, the usual heartbeat, is
// not news.
func (g *Gossip) contentChangedLocked(origin string, before *entry) bool {
	after := g.views[origin]
	if after == nil || after == before {
		return false
	}
	return before == nil || !bytes.Equal(before.raw, after.raw)
}
