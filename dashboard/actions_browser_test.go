package dashboard_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rsguard/rsguard/dashboard/dashtest"
)

// TestBrowserPauseResyncAndRefusal drives the other actions: a pause shows its banner (who,
// why), a second pause is refused with its reason code, a resync's plan can be cancelled without
// acting, and a confirmed resync answered 202 is followed at /v1/requests/{id} until it is done.
func TestBrowserPauseResyncAndRefusal(t *testing.T) {
	ts, fake := serve(t)
	ctx, _ := dashtest.Browser(t)
	dashtest.Open(t, ctx, ts.URL, "bob", adminToken)
	waitText(t, ctx, "#primary", equals("h1:27017"))
	if banner, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("pause-banner").hidden`)); err != nil || !banner {
		t.Fatalf("the pause banner shows before any pause (hidden=%v, %v)", banner, err)
	}

	do(t, ctx, "pausing",
		chromedp.SendKeys(chromedp.ID("why"), "disk swap on h2"),
		chromedp.Click(chromedp.ID("btn-pause")),
		chromedp.WaitVisible(chromedp.ID("confirm-dialog")))
	waitText(t, ctx, "#plan-reason", equals("pause_planned"))
	do(t, ctx, "confirming the pause", chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitVisible(chromedp.ID("pause-banner")))
	banner := waitText(t, ctx, "#pause-banner", contains("operator:bob"))
	if !strings.Contains(banner, "disk swap on h2") {
		t.Errorf("the pause banner %q does not say why", banner)
	}
	waitText(t, ctx, `#timeline li[data-kind="pause"]`, contains("paused"))

	do(t, ctx, "pausing again", chromedp.Click(chromedp.ID("btn-pause")))
	refused := waitText(t, ctx, `#result[data-state="refused"]`, contains("409"))
	for _, want := range []string{"already_paused", "paused already by operator:bob"} {
		if !strings.Contains(refused, want) {
			t.Errorf("the refusal %q does not show %q", refused, want)
		}
	}
	if open, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("confirm-dialog").open`)); open {
		t.Error("a refused plan opened the confirmation dialog")
	}

	do(t, ctx, "resuming", chromedp.Click(chromedp.ID("btn-resume")),
		chromedp.WaitVisible(chromedp.ID("confirm-dialog")),
		chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitNotVisible(chromedp.ID("pause-banner")))

	// Cancel: the plan was asked for, nothing ran.
	do(t, ctx, "planning a resync of h2",
		chromedp.Click(chromedp.CSS(`button.resync[data-host="h2:27017"]`)),
		chromedp.WaitVisible(chromedp.ID("confirm-dialog")))
	waitText(t, ctx, "#plan-steps", contains("wipe_dbpath"))
	do(t, ctx, "cancelling", chromedp.Click(chromedp.ID("cancel")), chromedp.WaitNotVisible(chromedp.ID("confirm-dialog")))
	if dry, runs, _, _ := fake.snapshot(); len(dry) != 1 || len(runs) != 0 {
		t.Fatalf("after cancelling: %d dry runs, %d runs; want 1 and 0", len(dry), len(runs))
	}

	do(t, ctx, "resyncing h2",
		chromedp.Click(chromedp.CSS(`button.resync[data-host="h2:27017"]`)),
		chromedp.WaitVisible(chromedp.ID("confirm-dialog")),
		chromedp.Click(chromedp.ID("confirm")))
	done := waitText(t, ctx, `#result[data-state="done"]`, contains("resync_done"))
	if !strings.Contains(done, "h2:27017 is SECONDARY again") {
		t.Errorf("#result %q does not show the request's message", done)
	}
	if _, runs, _, _ := fake.snapshot(); len(runs) != 1 {
		t.Errorf("runs after the confirmed resync: %d, want 1", len(runs))
	}
	dashtest.Screenshot(t, ctx, t.Name())
	if errs := dashtest.JSErrors(ctx); len(errs) > 0 {
		t.Errorf("the page logged JavaScript errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestBrowserSSEParser runs the page's event-stream parser on chunks cut at awkward places: in a
// field name, between CR and LF, inside the data; with comments, multi-line data, retry, and a
// block without data (which dispatches nothing but keeps its id), a bare "data" line (an empty
// event, as the HTML standard says) and a CR at a chunk's end that turns out to start a CRLF.
func TestBrowserSSEParser(t *testing.T) {
	ts, _ := serve(t)
	ctx, _ := dashtest.Browser(t)
	do(t, ctx, "loading the page", chromedp.Navigate(ts.URL+"/ui/"))
	type event struct{ ID, Event, Data string }
	type parsed struct {
		Events []event
		Retry  int
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[parsed](`import('./api.js').then((m) => {
		const p = new m.SSEParser();
		const events = [];
		for (const chunk of [': hello\n', 'retry: 250\n', 'id: 7\nev', 'ent: action\r', '\ndata: {"a":', '1}\r\n\r\n',
		                     'data: one\ndata: two\n\n', 'id: 9\n\n', 'data\n\n', 'event: x\ndata: ok\r\r', '\n: bye\n']) {
			for (const e of p.push(chunk)) events.push({ID: e.id, Event: e.event, Data: e.data});
		}
		return {Events: events, Retry: p.retry};
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running the parser: %v", err)
	}
	want := []event{
		{"7", "action", `{"a":1}`},
		{"7", "message", "one\ntwo"},
		{"9", "message", ""},
		{"9", "x", "ok"},
	}
	if len(got.Events) != len(want) {
		t.Fatalf("parsed %+v, want %+v", got.Events, want)
	}
	for i := range want {
		if got.Events[i] != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, got.Events[i], want[i])
		}
	}
	if got.Retry != 250 {
		t.Errorf("retry %d, want 250", got.Retry)
	}
}
