package harness

import "github.com/rsguard/rsguard/lab"

// Timeline records what happened when during a test, for drill reports (lab.Timeline); its Log
// writes to a testing.TB.
type Timeline = lab.Timeline

// Event is one entry of a Timeline.
type Event = lab.Event

// NewTimeline starts a timeline whose zero point is now (until Zero is called).
func NewTimeline() *Timeline { return lab.NewTimeline() }
