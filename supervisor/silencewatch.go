package supervisor

import (
	"context"
	"time"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// A silent mongod is asked without a gap until it answers or its silence is long (silence.go).
//
// The regular probes cannot measure a silence well. They come once per probe.interval and each
// waits probe.timeout, so a silence is known only at the end of a failed probe: with the defaults
// (1 s, 0.8 s) at 0.8, 1.8, 2.8, 3.8 s after it began, and probe.unreachable_after 3 s took 3.8 s
// (the freeze drill's failover sat at 4.7 s, issue 11). Nor can they end one quickly: after a
// link blip the driver's pooled connections still wait on requests the network swallowed, and its
// server selection on the monitor's next check (mongo.PortChecker); a new connection after the
// blip answers in a round trip. So while a silence is undecided the watch asks hello over a fresh
// client (mongo.FreshAsker) every probe.timeout/4, each question waiting up to probe.timeout, and
// looks at the silence's length as it grows: the mongod is unreachable at exactly
// probe.unreachable_after (once probe.failures_before_unreachable questions went unanswered), and
// an answer ends the silence within probe.timeout/4 of the mongod answering again.
//
// Measured on loopback with the emulator, 40 iptables blips of 2 s at random phases each: the
// watch read silences of at most 2.10 s (from the first unanswered probe to the first fresh
// answer); the regular probes alone, asked back to back, read up to 2.63 s and answered up to 1 s
// after the blip had ended.

// watchSpacing is the gap between two questions of the watch.
func watchSpacing(timeout time.Duration) time.Duration { return max(timeout/4, 10*time.Millisecond) }

// silenceLocked is host's silence record: the local mongod's or a checked peer's; nil for another
// host.
func (s *Supervisor) silenceLocked(host string) *silence {
	if host == s.selfHost && s.mode == topology.ModeData {
		return &s.local.silent
	}
	if p := s.peers[host]; p != nil {
		return &p.silent
	}
	return nil
}

// startWatchLocked starts the watch of host's silence when one runs, undecided and unwatched.
// probe.unreachable_after 0 (failures alone decide) needs no watch.
func (s *Supervisor) startWatchLocked(ctx context.Context, host string, sil *silence) {
	if !sil.running() || sil.declared || sil.watching || s.cfg.Probe.UnreachableAfter <= 0 || ctx.Err() != nil {
		return
	}
	sil.watching = true
	s.inflight.Add(1)
	go s.watchSilence(ctx, host)
}

// watchSilence asks host a fresh question every watchSpacing until its silence ends (an answer:
// askFresh) or is long: then it declares the mongod unreachable.
func (s *Supervisor) watchSilence(ctx context.Context, host string) {
	defer s.inflight.Done()
	for ctx.Err() == nil {
		s.mu.Lock()
		sil := s.silenceLocked(host)
		if sil == nil || !sil.watching {
			s.mu.Unlock()
			return
		}
		now, pr := s.now(), s.cfg.Probe
		if sil.long(now, pr.FailuresBeforeUnreachable, pr.UnreachableAfter) {
			lasted := now.Sub(sil.since)
			s.declareSilentLocked(host, sil, now)
			s.markUnreachableLocked(host, context.DeadlineExceeded)
			s.mu.Unlock()
			s.logger.Warn("mongod silent for probe.unreachable_after: unreachable", "mongod", host,
				"silent", lasted.Round(time.Millisecond), "unanswered", sil.fails)
			s.publish()
			return
		}
		spacing := watchSpacing(pr.Timeout)
		wait := spacing
		if left := sil.since.Add(pr.UnreachableAfter).Sub(now); left > 0 {
			wait = min(wait, left)
		}
		s.mu.Unlock()
		s.inflight.Add(1)
		go s.askFresh(ctx, host, pr.Timeout)
		s.sleep(ctx, wait)
	}
}

// askFresh asks host hello over a connection of its own. Any answer, an error reply included,
// ends the silence; no answer within timeout counts as one more unanswered question.
func (s *Supervisor) askFresh(ctx context.Context, host string, timeout time.Duration) {
	defer s.inflight.Done()
	started := s.now()
	qctx, cancel := context.WithTimeout(ctx, timeout)
	err := s.helloFresh(qctx, host)
	cancel()
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sil := s.silenceLocked(host)
	if sil == nil || !sil.watching {
		return
	}
	if err == nil || mongo.ErrorCode(err) != 0 {
		s.endSilenceLocked(host, sil, s.now())
		return
	}
	sil.fail(started)
}

// helloFresh asks through mongo.FreshAsker when host's Node has it (the driver does), else with
// the Node's own hello (test fakes).
func (s *Supervisor) helloFresh(ctx context.Context, host string) error {
	node, err := s.nodes.get(ctx, host)
	if err != nil {
		return err
	}
	if fa, ok := node.(mongo.FreshAsker); ok {
		return fa.HelloFresh(ctx)
	}
	_, err = node.Hello(ctx)
	return err
}

// endSilenceLocked records an answer from host at at: its silence (if any) is over; a blip's
// length goes to the histogram.
func (s *Supervisor) endSilenceLocked(host string, sil *silence, at time.Time) {
	if lasted, blip := sil.end(at); blip {
		s.metrics.silence.WithLabelValues(host, "answered").Observe(lasted.Seconds())
	}
}

// declareSilentLocked records, once per run, that host's silence lasted probe.unreachable_after:
// the watch stops and the histogram gets the length. The callers mark the mongod unreachable.
func (s *Supervisor) declareSilentLocked(host string, sil *silence, now time.Time) {
	if sil.declared {
		return
	}
	sil.watching, sil.declared = false, true
	s.metrics.silence.WithLabelValues(host, "unreachable").Observe(now.Sub(sil.since).Seconds())
}

// markUnreachableLocked makes host unreachable for err: the local mongod's view says so (its last
// values kept: "was PRIMARY in term 3, now silent" is what the election core needs), or the
// peer's check does.
func (s *Supervisor) markUnreachableLocked(host string, err error) {
	if host == s.selfHost && s.mode == topology.ModeData {
		l := &s.local
		if l.problem != "" {
			return // its last answer said it is not a usable member of our set
		}
		l.view = mongo.Unreachable(l.view, s.selfHost, err)
		l.usable = true
		return
	}
	p := s.peers[host]
	p.tried, p.ok, p.failure = true, false, mongo.Classify(err)
}
