package drill

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Report is a drill's results with what it ran on, the one input of every output format.
type Report struct {
	Target   string    `json:"target"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	Passed   int       `json:"passed"`
	Failed   int       `json:"failed"` // fail and error verdicts
	Skipped  int       `json:"skipped"`
	Results  []Result  `json:"results"`
	Warnings []string  `json:"warnings,omitempty"`
}

// NewReport counts the verdicts of results.
func NewReport(target string, started, ended time.Time, results []Result) Report {
	r := Report{Target: target, Started: started, Ended: ended, Results: results}
	for _, res := range results {
		switch res.Verdict {
		case VerdictPass:
			r.Passed++
		case VerdictSkip:
			r.Skipped++
		default:
			r.Failed++
		}
	}
	return r
}

// OK is true when no run failed (skips are not failures, but a report of nothing but skips is
// not a pass either).
func (r Report) OK() bool { return r.Failed == 0 && r.Passed > 0 }

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("drill: JSON report: %w", err)
	}
	return nil
}
