package drill

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable writes the terminal table: one line per run, then each run's problems and skips.
func WriteTable(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SCENARIO\tRUN\tRESULT\tDETECTED\tDECISION\tNEW PRIMARY\tWRITABLE\tWRITES PAUSED\tACKED LOST\tROLLED BACK\tRECOVERED\n")
	for _, res := range r.Results {
		if !res.Ran() {
			fmt.Fprintf(tw, "%s\t%d\t%s\t-\t-\t-\t-\t-\t-\t-\t-\n", res.Scenario, res.Run, res.Verdict)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", res.Scenario, res.Run, res.Verdict,
			secs(res.DetectionMs), dash(res.Decision), dash(res.NewPrimary), secs(res.WritablePrimaryMs),
			secs(ptr(res.WriteUnavailableMs)), res.AckedLost, res.RolledBack, recovery(res))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("drill: table: %w", err)
	}
	for _, res := range r.Results {
		for _, p := range res.Problems {
			fmt.Fprintf(w, "%s #%d: %s\n", res.Scenario, res.Run, p)
		}
		if res.Skipped != "" {
			fmt.Fprintf(w, "%s #%d skipped: %s\n", res.Scenario, res.Run, res.Skipped)
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	_, err := fmt.Fprintf(w, "%d passed, %d failed, %d skipped on %s\n", r.Passed, r.Failed, r.Skipped, r.Target)
	return err
}

// secs prints an offset in seconds, "-" when it was not observed.
func secs(m *Ms) string {
	if m == nil {
		return "-"
	}
	return fmt.Sprintf("%.2fs", m.Seconds())
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// recovery prints how long the subject took to come back after the undo.
func recovery(r Result) string {
	switch {
	case r.Subject == "":
		return "-"
	case r.RecoveryMs == nil:
		return "no"
	default:
		return "+" + secs(r.RecoveryMs)
	}
}
