package drill

import (
	"fmt"
	"time"
)

// The HTML report's timeline geometry, computed here because a template cannot do arithmetic.
const (
	svgWidth  = 960
	svgLeft   = 40  // room for the first label
	svgRight  = 40  // and the axis' end
	svgAxisY  = 34  // the time axis
	svgRowH   = 17  // one label row
	svgFirstY = 56  // the first label row
	svgBottom = 12  // below the last row
	svgTickH  = 6   // tick marks of whole seconds
	svgPadMs  = 500 // time shown before the first mark and after the last
)

// svgMark is one mark placed on the timeline.
type svgMark struct {
	X, Y, TextX float64
	Anchor      string // text-anchor: start, or end near the right edge
	Class       string
	Label       string
}

// svgTick is one second on the axis.
type svgTick struct {
	X     float64
	Label string
}

// timeline is one scenario's chart.
type timeline struct {
	Width, Height, AxisY, TickY, AxisX0, AxisX1 float64
	Paused                                      *struct{ X, W float64 }
	Marks                                       []svgMark
	Ticks                                       []svgTick
}

// newTimeline lays r's marks out on an axis from before the first to after the last.
func newTimeline(r Result) timeline {
	lo, hi := Ms(0), Ms(0)
	for _, m := range r.Timeline {
		lo, hi = min(lo, m.AtMs), max(hi, m.AtMs)
	}
	lo, hi = lo-svgPadMs, hi+svgPadMs
	span := float64(hi - lo)
	x := func(at Ms) float64 { return svgLeft + float64(at-lo)/span*(svgWidth-svgLeft-svgRight) }
	t := timeline{Width: svgWidth, AxisY: svgAxisY, TickY: svgAxisY + svgTickH, AxisX0: x(lo), AxisX1: x(hi),
		Height: svgFirstY + float64(len(r.Timeline))*svgRowH + svgBottom}
	if r.PausedFromMs != nil && r.PausedToMs != nil {
		t.Paused = &struct{ X, W float64 }{x(*r.PausedFromMs), max(x(*r.PausedToMs)-x(*r.PausedFromMs), 1)}
	}
	step := tickStep(time.Duration(hi-lo) * time.Millisecond)
	for s := (int64(lo) / step) * step; s <= int64(hi); s += step {
		if Ms(s) >= lo {
			t.Ticks = append(t.Ticks, svgTick{X: x(Ms(s)), Label: fmt.Sprintf("%+gs", float64(s)/1000)})
		}
	}
	for i, m := range r.Timeline {
		sm := svgMark{X: x(m.AtMs), Y: svgFirstY + float64(i)*svgRowH, Class: string(m.Kind), Anchor: "start",
			Label: fmt.Sprintf("%+.2fs %s", m.AtMs.Seconds(), m.What)}
		sm.TextX = sm.X + 5
		if sm.X > svgWidth/2 {
			sm.Anchor, sm.TextX = "end", sm.X-5
		}
		t.Marks = append(t.Marks, sm)
	}
	return t
}

// tickStep is the axis' tick spacing in ms: about ten ticks.
func tickStep(span time.Duration) int64 {
	for _, s := range []int64{500, 1000, 2000, 5000, 10000, 30000, 60000} {
		if time.Duration(s)*time.Millisecond*12 >= span {
			return s
		}
	}
	return 120000
}

// htmlRun is one result with its chart.
type htmlRun struct {
	Result
	Chart timeline
}

// htmlView is the template's data.
type htmlView struct {
	Report
	Runs []htmlRun
}

func newHTMLView(r Report) htmlView {
	v := htmlView{Report: r}
	for _, res := range r.Results {
		v.Runs = append(v.Runs, htmlRun{Result: res, Chart: newTimeline(res)})
	}
	return v
}
