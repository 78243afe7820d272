package drill

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
)

//go:embed report.html.tmpl
var reportTemplate string

var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"secs":     secs,
	"secsv":    func(m Ms) string { return secs(&m) },
	"recovery": recovery,
	"audit":    func(raw json.RawMessage) string { return string(raw) },
	"f1":       func(f float64) string { return fmt.Sprintf("%.1f", f) },
}).Parse(reportTemplate))

// WriteHTML writes the self-contained HTML report: inline CSS, an inline SVG timeline per run,
// no script and no external asset.
func WriteHTML(w io.Writer, r Report) error {
	if err := reportHTML.Execute(w, newHTMLView(r)); err != nil {
		return fmt.Errorf("drill: HTML report: %w", err)
	}
	return nil
}
