package lab

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Event is one entry of a Timeline.
type Event struct {
	When time.Time
	What string
}

// Timeline records what happened when during a lab run, for drill reports such as
//
//	+0.000s  SIGKILL 127.0.0.2:27017 (primary)
//	+11.204s new primary 127.0.0.3:27017
//
// Offsets are relative to the zero point: the first Zero call, or the timeline's creation.
// It is safe for concurrent use.
type Timeline struct {
	mu     sync.Mutex
	zero   time.Time
	zeroed bool
	events []Event
}

// NewTimeline starts a timeline whose zero point is now (until Zero is called).
func NewTimeline() *Timeline { return &Timeline{zero: time.Now()} }

// Mark records an event now and returns it.
func (tl *Timeline) Mark(format string, args ...any) Event {
	e := Event{When: time.Now(), What: fmt.Sprintf(format, args...)}
	tl.mu.Lock()
	tl.events = append(tl.events, e)
	tl.mu.Unlock()
	return e
}

// Zero records an event and makes it the zero point of every offset (typically the fault
// injection). Only the first call moves the zero point.
func (tl *Timeline) Zero(format string, args ...any) Event {
	e := tl.Mark(format, args...)
	tl.mu.Lock()
	if !tl.zeroed {
		tl.zero, tl.zeroed = e.When, true
	}
	tl.mu.Unlock()
	return e
}

// Offset is e's time relative to the zero point (negative for events before it).
func (tl *Timeline) Offset(e Event) time.Duration {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return e.When.Sub(tl.zero)
}

// Events returns a copy of the events in the order they were recorded.
func (tl *Timeline) Events() []Event {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return append([]Event(nil), tl.events...)
}

// Find returns the first event whose text contains substr.
func (tl *Timeline) Find(substr string) (Event, bool) {
	for _, e := range tl.Events() {
		if strings.Contains(e.What, substr) {
			return e, true
		}
	}
	return Event{}, false
}

// Report renders one line per event: "+11.204s new primary 127.0.0.3:27017".
func (tl *Timeline) Report() string {
	var b strings.Builder
	for _, e := range tl.Events() {
		fmt.Fprintf(&b, "%+9.3fs  %s\n", tl.Offset(e).Seconds(), e.What)
	}
	return b.String()
}

// Logger is what Log writes to; a *testing.T is one.
type Logger interface {
	Helper()
	Logf(format string, args ...any)
}

// Log writes the report to l (a test log).
func (tl *Timeline) Log(l Logger) {
	l.Helper()
	l.Logf("timeline:\n%s", tl.Report())
}
