package drill

import (
	"fmt"
	"io"
	"sync"

	"github.com/schollz/progressbar/v3"
)

// runSteps are the steps a run reports (Runner.run), the progress bar's unit.
var runSteps = []string{"prepare", "warm-up", "fault", "waiting", "undo", "recovery", "verify"}

// Progress is an Observer drawing a progress bar on a terminal while the drill runs: one tick
// per step of every run, the current scenario and step as its description.
type Progress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	taken map[string]int // steps counted per run
}

// NewProgress draws on w for runs runs in all.
func NewProgress(w io.Writer, runs int) *Progress {
	bar := progressbar.NewOptions(runs*len(runSteps), progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("drill"), progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true), progressbar.OptionSetPredictTime(false),
		progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
	return &Progress{bar: bar, taken: map[string]int{}}
}

func runKey(scenario string, run int) string { return fmt.Sprintf("%s #%d", scenario, run) }

// Step moves the bar by one step and names it.
func (p *Progress) Step(scenario string, run int, step string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := runKey(scenario, run)
	p.bar.Describe(fmt.Sprintf("%-34s %-9s", k, step))
	if p.taken[k] < len(runSteps) {
		p.taken[k]++
		_ = p.bar.Add(1)
	}
}

// Done moves the bar to the end of the run (a skipped run reports no step).
func (p *Progress) Done(r Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := runKey(r.Scenario, r.Run)
	if left := len(runSteps) - p.taken[k]; left > 0 {
		p.taken[k] = len(runSteps)
		_ = p.bar.Add(left)
	}
	p.bar.Describe(fmt.Sprintf("%-34s %s", k, r.Verdict))
}

// Finish clears the bar.
func (p *Progress) Finish() error { return p.bar.Finish() }
