package heartbeat

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"time"
)

// retry is the backoff state of one join target.
type retry struct {
	next  time.Time
	delay time.Duration
}

// joinLoop keeps this sidecar joined to everybody it should know. Every RetryInterval it joins
// (a memberlist push-pull) each target of joinTargets, backing off per target up to 5s while one
// fails, so a configured sidecar that is down does not slow the others. This repairs what gossip
// alone leaves broken for long: a start-up race can leave a member unknown to one sidecar until
// the next push-pull (10-20s), and memberlist stops gossiping to the dead after
// GossipToTheDeadTime, so the two sides of a long partition would never merge again
// (alertmanager's cluster reconnects for the same reason).
func (g *Gossip) joinLoop(ctx context.Context) {
	tries := make(map[string]*retry)
	lonely := 0 // consecutive rounds alone with every seed failing
	ticker := time.NewTicker(g.opts.RetryInterval)
	defer ticker.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
		targets, alone := g.joinTargets()
		for t := range tries {
			if !slices.Contains(targets, t) {
				delete(tries, t)
			}
		}
		var errs []error
		var failed []string
		joined := 0
		for _, target := range targets {
			r := tries[target]
			if r != nil && time.Now().Before(r.next) {
				continue
			}
			if ctx.Err() != nil {
				return // each failing target may hold a dial for TCPTimeout; Shutdown waits for us
			}
			if _, err := g.ml.Join([]string{target}); err != nil {
				if r == nil {
					r = &retry{}
					tries[target] = r
				}
				r.delay = min(max(2*r.delay, g.opts.RetryInterval), maxRetryInterval)
				r.next = time.Now().Add(r.delay)
				errs, failed = append(errs, err), append(failed, target)
				continue
			}
			delete(tries, target)
			joined++
		}
		if len(failed) > 0 {
			g.metrics.seedJoinFailures.Add(float64(len(failed)))
		}
		switch {
		case alone && joined == 0 && len(failed) > 0:
			lonely++
			level := slog.LevelDebug
			if lonely == 1 || lonely%60 == 0 {
				level = slog.LevelWarn
			}
			g.logger.Log(ctx, level, "gossip: no seed reachable, retrying", "failed", failed,
				"rounds", lonely, "err", errors.Join(errs...))
		case joined > 0 && lonely > 0:
			g.logger.Info("gossip joined", "after_rounds", lonely+1)
			lonely = 0
		case len(failed) > 0:
			g.logger.Debug("gossip rejoin failed", "failed", failed, "err", errors.Join(errs...))
		}
	}
}

// joinTargets lists the addresses to (re)join: all seeds while no other member is alive; after
// that, seeds given as ip:port that no alive member advertises, and members declared dead (not
// left: a sidecar that said goodbye rejoins by itself when it comes back).
func (g *Gossip) joinTargets() (targets []string, alone bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	alive := make(map[string]bool)
	others := false
	for id, m := range g.members {
		switch {
		case m.Status == StatusAlive:
			alive[m.Addr] = true
			others = others || id != g.opts.NodeID
		case m.Status == StatusDead:
			targets = append(targets, m.Addr)
		}
	}
	alone = !others
	for _, s := range g.seeds {
		if ap, err := netip.ParseAddrPort(s); alone || (err == nil && !alive[ap.String()]) {
			targets = append(targets, s)
		}
	}
	slices.Sort(targets)
	return slices.Compact(targets), alone
}
