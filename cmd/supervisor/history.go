package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rsguard/rsguard/supervisor/statustext"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
)

type historyCmd struct {
	apiFlags
	Since string `placeholder:"DURATION|RFC3339" help:"Only events since then: a duration back from now (2h) or a time (2026-12-03T06:00:00Z)."`
	Limit int    `placeholder:"N" help:"Only the newest N events."`
	Kind  string `placeholder:"KIND" help:"Only events of this kind (primary_changed, incident, failover, action, pause, resume, acknowledge, resync_started, resync_ended)."`
}

func (c *historyCmd) Run(e *env) error {
	q := apiclient.HistoryQuery{Limit: c.Limit, Kind: c.Kind}
	since, err := parseSince(c.Since, time.Now())
	if err != nil {
		return fail(exitUsage, "supervisor history: --since %q: %v", c.Since, err)
	}
	q.Since = since
	if c.Limit < 0 {
		return fail(exitUsage, "supervisor history: --limit %d: must be 0 (all) or more", c.Limit)
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	h, err := cl.History(e.ctx, q)
	if err != nil {
		return c.apiError(e, "history", err)
	}
	if c.json() {
		return writeJSON(e.stdout, h)
	}
	if len(h.Events) == 0 {
		fmt.Fprintln(e.stdout, "no events")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, eventHeader)
	for _, ev := range h.Events {
		fmt.Fprintln(tw, eventRow(ev))
	}
	return tw.Flush()
}

// parseSince reads a duration back from now or an RFC 3339 time; "" is the zero time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, errors.New("a duration back from now must not be negative")
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want a duration (90m, 2h) or an RFC 3339 time (2026-12-03T06:00:00Z)")
	}
	return t, nil
}

const eventHeader = "TIME\tKIND\tSUMMARY\tREASON\tACTOR\tID"

// eventRow is an event as a table row (tab separated).
func eventRow(ev api.Event) string {
	summary := ev.Summary
	if r := ev.Request; r != nil && summary == "" {
		summary = fmt.Sprintf("%s %s", r.Action, r.State)
	}
	return strings.Join([]string{ev.Time.Local().Format("2006-01-02 15:04:05"), ev.Kind, statustext.Dash(summary), statustext.Dash(ev.Reason),
		statustext.Dash(ev.Actor), ev.ID}, "\t")
}

type eventsCmd struct {
	apiFlags
	After string `placeholder:"ID" help:"Start after this event id (default: the whole history, then live events)."`
}

// Run follows the event stream until Ctrl-C: one line per event, a table row or a JSON object.
func (c *eventsCmd) Run(e *env) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	if !c.json() {
		fmt.Fprintln(e.stdout, strings.ReplaceAll(eventHeader, "\t", "  "))
	}
	err = cl.Events(e.ctx, c.After, func(ev api.Event) error {
		if c.json() {
			return enc.Encode(ev)
		}
		_, err := fmt.Fprintln(e.stdout, strings.ReplaceAll(eventRow(ev), "\t", "  "))
		return err
	})
	if e.ctx.Err() != nil {
		return nil // Ctrl-C: the normal end of a follow
	}
	return c.apiError(e, "events", err)
}

type auditCmd struct {
	apiFlags
	Limit int `placeholder:"N" help:"Only the newest N records."`
}

func (c *auditCmd) Run(e *env) error {
	if c.Limit < 0 {
		return fail(exitUsage, "supervisor audit: --limit %d: must be 0 (all) or more", c.Limit)
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	a, err := cl.Audit(e.ctx, c.Limit)
	if err != nil {
		return c.apiError(e, "audit", err)
	}
	if c.json() {
		return writeJSON(e.stdout, a)
	}
	return writeAudit(e.stdout, a)
}

// writeAudit prints one audit record per line, as compact JSON after the sidecar's name.
func writeAudit(w io.Writer, a api.Audit) error {
	if len(a.Records) == 0 {
		fmt.Fprintf(w, "sidecar %s: no audit records\n", statustext.Dash(a.Sidecar))
		return nil
	}
	fmt.Fprintf(w, "sidecar %s: %d audit records, oldest first\n", statustext.Dash(a.Sidecar), len(a.Records))
	for _, r := range a.Records {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\n", b)
	}
	return nil
}

type requestCmd struct {
	apiFlags
	ID string `arg:"" help:"The request id an action printed."`
}

// Run prints one operator request; its exit code is the action's (0 done, planned or still
// pending, 1 refused or failed).
func (c *requestCmd) Run(e *env) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	r, err := cl.Request(e.ctx, c.ID)
	if err != nil {
		return c.apiError(e, "request", err)
	}
	if c.json() {
		_ = writeJSON(e.stdout, r)
	} else {
		writeResult(e.stdout, r)
	}
	if r.State == api.StateRefused || r.State == api.StateFailed {
		return &exitError{code: exitFailed}
	}
	return nil
}
