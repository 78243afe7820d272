package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// envDrillJSON names a JSON file the drill reports are also written to, one object per drill
// (`make bench-failover` writes e2e/testdata/drills/bench-failover.json beside the report):
// every series with its values, median and p90 in seconds, and the notes.
const envDrillJSON = "RSGUARD_DRILL_JSON"

type seriesJSON struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values_s"`
	Median float64   `json:"median_s"`
	P90    float64   `json:"p90_s"`
}

type reportJSON struct {
	Title  string       `json:"title"`
	Series []seriesJSON `json:"series"`
	Notes  []string     `json:"notes,omitempty"`
}

// jsonReports collects the reports of one test binary run (drills run one after another).
var jsonReports struct {
	list []reportJSON
}

// publishJSON appends r to $RSGUARD_DRILL_JSON's list and rewrites the file; the caller holds
// reportFile.mu.
func (r *drillReport) publishJSON(t testing.TB) {
	path := os.Getenv(envDrillJSON)
	if path == "" {
		return
	}
	rj := reportJSON{Title: r.title, Notes: r.notes}
	for _, s := range r.series {
		sj := seriesJSON{Name: s.name, Values: []float64{}, Median: s.median().Seconds(), P90: s.quantile(0.9).Seconds()}
		for _, v := range s.vals {
			sj.Values = append(sj.Values, v.Seconds())
		}
		rj.Series = append(rj.Series, sj)
	}
	jsonReports.list = append(jsonReports.list, rj)
	b, err := json.MarshalIndent(jsonReports.list, "", "  ")
	if err != nil {
		t.Errorf("drill json: %v", err)
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Errorf("drill json: %v", err)
		return
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Errorf("drill json: %v", err)
	}
}
