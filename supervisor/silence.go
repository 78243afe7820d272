package supervisor

import "time"

// silence is a run of questions to one mongod without an answer: timeouts, resets, anything but
// a refused connection, which proves at once that nothing listens (failover-notes "Crash of the
// primary's mongod"). From outside, a host cut off for two seconds and a frozen one look the same
// until one of them answers again; what tells them apart is only how long the silence lasts.
//
// The silence starts with the first probe that got no answer (its start: the mongod was asked then
// and said nothing since) and lasts until any answer arrives. While it lasts the mongod is asked
// without a gap (silencewatch.go): a fresh question every probe.timeout/4, so an answer that comes
// is seen within that, and the length is known as it grows rather than at the end of the next
// failed probe. A mongod is unreachable once the silence holds probe.failures_before_unreachable
// unanswered questions AND has lasted probe.unreachable_after. Below that it is a blip, ridden
// out: a link blip of d seconds reads as a silence of at most d + probe.timeout/4 + a round trip.
type silence struct {
	fails    int
	since    time.Time // start of the first unanswered question of the run
	answered time.Time // when the last answer came: a question asked before it is stale
	// watching: a watch asks the mongod over fresh connections (silencewatch.go).
	watching bool
	// declared: the run made the mongod unreachable (long, or refused): no watch, no blip.
	declared bool
}

// fail records a question asked at started that got no answer. A question asked before the last
// answer is stale (an answer came after it was sent: the mongod was not silent since then) and is
// ignored; fail reports whether it counted.
func (s *silence) fail(started time.Time) bool {
	if started.Before(s.answered) {
		return false
	}
	if s.fails == 0 {
		s.since = started
	}
	s.fails++
	return true
}

// end records an answer (or first-hand proof, refused) at at: the run is over. It returns how
// long the run had lasted and whether it was a blip (a run that never made the mongod unreachable),
// for the silence histogram.
func (s *silence) end(at time.Time) (lasted time.Duration, blip bool) {
	if s.fails > 0 {
		lasted, blip = at.Sub(s.since), !s.declared
	}
	*s = silence{answered: at}
	return lasted, blip
}

// running reports whether a run is going on.
func (s silence) running() bool { return s.fails > 0 }

// long reports whether the run, at now, makes the mongod unreachable: at least failures
// unanswered questions and at least after.
func (s silence) long(now time.Time, failures int, after time.Duration) bool {
	return s.fails > 0 && s.fails >= failures && now.Sub(s.since) >= after
}
