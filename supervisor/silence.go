package supervisor

import "time"

// silence is a run of failed probes of one mongod without an answer: timeouts, resets, anything
// but a refused connection, which proves at once that nothing listens (failover-notes "Crash of
// the primary's mongod"). From outside, a host cut off for two seconds and a frozen one look the
// same until one of them answers again; what tells them apart is only how long the silence lasts.
// A mongod is unreachable once the run holds probe.failures_before_unreachable failures AND has
// lasted probe.unreachable_after, measured from the start of its first failed probe to the end of
// its latest. Below that it is a blip, ridden out (the false-positive soak's 2 s link blips).
type silence struct {
	fails int
	since time.Time // start of the first failed probe of the run
}

// fail records a probe started at started that failed without an answer.
func (s *silence) fail(started time.Time) {
	if s.fails == 0 {
		s.since = started
	}
	s.fails++
}

// end records an answer (or first-hand proof, refused): the run is over.
func (s *silence) end() { *s = silence{} }

// long reports whether the run, at now (the end of its latest failed probe), makes the mongod
// unreachable: at least failures probes and at least after long.
func (s silence) long(now time.Time, failures int, after time.Duration) bool {
	return s.fails > 0 && s.fails >= failures && now.Sub(s.since) >= after
}
