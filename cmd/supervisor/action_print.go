package main

import (
	"fmt"
	"github.com/rsguard/rsguard/supervisor/statustext"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rsguard/rsguard/api"
)

// writeResult prints an action's result: one line with the state and reason code, the message,
// then the plan's steps with their outcomes.
func writeResult(w io.Writer, r api.ActionResult) {
	state := r.State
	switch state {
	case api.StateRefused, api.StateFailed:
		state = strings.ToUpper(state)
	case "":
		state = api.StateDone // a 200 without a state: the contract's "done"
	}
	fmt.Fprintf(w, "%s %s%s", statustext.Dash(r.Action), state, statustext.Optional(" (", r.Reason, ")"))
	if r.DryRun || r.State == api.StatePlanned {
		fmt.Fprint(w, ": dry run, nothing done")
	}
	fmt.Fprintln(w)
	if r.Message != "" {
		fmt.Fprintf(w, "  %s\n", r.Message)
	}
	var facts []string
	if r.From != "" || r.To != "" {
		facts = append(facts, fmt.Sprintf("%s -> %s", statustext.Dash(r.From), statustext.Dash(r.To)))
	}
	if r.ID != "" {
		facts = append(facts, "request "+r.ID)
	}
	if r.Actor != "" {
		facts = append(facts, "by "+r.Actor)
	}
	if r.Executor != "" {
		facts = append(facts, "executor "+r.Executor)
	}
	if r.DurationMs > 0 {
		facts = append(facts, "took "+(time.Duration(r.DurationMs)*time.Millisecond).String())
	}
	if len(facts) > 0 {
		fmt.Fprintf(w, "  %s\n", strings.Join(facts, ", "))
	}
	if r.Why != "" {
		fmt.Fprintf(w, "  why: %s\n", r.Why)
	}
	if r.State == api.StatePending || r.State == api.StateRunning {
		fmt.Fprintf(w, "  still %s: follow it with `supervisor request %s`\n", r.State, r.ID)
	}
	if len(r.Steps) == 0 {
		return
	}
	fmt.Fprintln(w, "plan:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tSTEP\tHOST\tDETAIL\tRESULT")
	for i, s := range r.Steps {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", i+1, s.Do, statustext.Dash(s.Host), statustext.Dash(s.Detail), stepResult(s.Result))
	}
	_ = tw.Flush()
}

func stepResult(s string) string {
	if s == "" {
		return "not run"
	}
	return s
}
