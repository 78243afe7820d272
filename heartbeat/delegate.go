package heartbeat

import (
	"encoding/json"
	"fmt"
)

// delegate is memberlist's Delegate: user messages carry view pushes and relays, and push-pull
// (join and every PushPullInterval) swaps every view held, for anti-entropy and so that a joining
// sidecar learns the whole picture at once. Nothing rides on memberlist's broadcast queue or node
// metadata: direct pushes are faster and simpler with a handful of members.
type delegate struct{ g *Gossip }

// pushPullState is the LocalState payload: every view held, with ages.
type pushPullState struct {
	Views []*envelope `json:"views"`
}

func (d delegate) NodeMeta(int) []byte { return nil }

func (d delegate) GetBroadcasts(int, int) [][]byte { return nil }

// NotifyMsg runs on memberlist's packet handler: decode and file, never block.
func (d delegate) NotifyMsg(b []byte) {
	g := d.g
	e, err := decodeEnvelope(b)
	if err == nil {
		path := pathRelayed
		if e.From == e.Origin {
			path = pathDirect
		}
		now := g.opts.Clock()
		g.mu.Lock()
		before := g.views[e.Origin]
		err = g.receiveLocked(e, path, now)
		changed := err == nil && g.contentChangedLocked(e.Origin, before)
		g.mu.Unlock()
		if changed {
			g.notifyUpdate()
		}
	}
	if err != nil {
		g.metrics.viewsInvalid.Inc()
		g.logger.Debug("dropping gossip message", "err", err)
	}
}

func (d delegate) LocalState(bool) []byte {
	g := d.g
	now := g.opts.Clock()
	g.mu.Lock()
	var st pushPullState
	if own := g.ownEnvelopeLocked(now); own != nil {
		st.Views = append(st.Views, own)
	}
	for _, e := range g.views {
		st.Views = append(st.Views, g.relayEnvelopeLocked(e, now))
	}
	g.mu.Unlock()
	b, err := json.Marshal(st)
	if err != nil {
		g.logger.Error("encoding push-pull state", "err", err)
		return nil
	}
	return append([]byte{wireVersion}, b...)
}

func (d delegate) MergeRemoteState(b []byte, join bool) {
	g := d.g
	var st pushPullState
	var err error
	if len(b) < 2 || b[0] != wireVersion {
		err = errBadEnvelope
	} else if err = json.Unmarshal(b[1:], &st); err != nil {
		err = fmt.Errorf("%w: push-pull state: %w", errBadEnvelope, err)
	}
	if err != nil {
		g.metrics.viewsInvalid.Inc()
		g.logger.Warn("dropping push-pull state", "err", err)
		return
	}
	now := g.opts.Clock()
	changed := false
	defer func() {
		if changed {
			g.notifyUpdate()
		}
	}()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.merged = true
	for _, e := range st.Views {
		if e == nil || e.Origin == "" || e.From == "" || e.AgeMs < 0 {
			g.metrics.viewsInvalid.Inc()
			continue
		}
		before := g.views[e.Origin]
		if err := g.receiveLocked(e, pathPushPull, now); err != nil {
			g.metrics.viewsInvalid.Inc()
			g.logger.Debug("dropping view from push-pull", "join", join, "err", err)
			continue
		}
		changed = g.contentChangedLocked(e.Origin, before) || changed
	}
}
