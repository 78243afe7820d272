package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rsguard/rsguard/dashboard"
	"github.com/rsguard/rsguard/dashboard/dashtest"
)

const waitUI = 20 * time.Second

// serve runs the dashboard and the fake /v1 on one httptest server, as a sidecar serves both.
func serve(t *testing.T) (*httptest.Server, *fakeAPI) {
	t.Helper()
	fake := newFakeAPI()
	mux := http.NewServeMux()
	mux.Handle("/ui/", dashboard.Handler())
	mux.Handle("/ui", dashboard.Handler())
	mux.Handle("/v1/", fake.handler())
	ts := httptest.NewServer(mux)
	// Cleanups run last first: the streams end before the server waits for its requests.
	t.Cleanup(ts.Close)
	t.Cleanup(fake.close)
	return ts, fake
}

func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, waitUI)
	defer cancel()
	if err := chromedp.Do(actx, actions...); err != nil {
		t.Fatalf("%s: %v\nconsole:\n%s", what, err, strings.Join(dashtest.ConsoleLines(ctx), "\n"))
	}
}

func waitText(t *testing.T, ctx context.Context, sel string, ok func(string) bool) string {
	t.Helper()
	text, err := dashtest.WaitText(ctx, sel, waitUI, ok)
	if err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, strings.Join(dashtest.ConsoleLines(ctx), "\n"))
	}
	return text
}

func contains(s string) func(string) bool {
	return func(t string) bool { return strings.Contains(t, s) }
}
func equals(s string) func(string) bool {
	return func(t string) bool { return strings.TrimSpace(t) == s }
}

// TestBrowserSwitchover drives the dashboard in a headless Chromium: it asks for a token, shows
// the set, plans a switchover (dry run only), confirms it, and shows the new primary and the
// event from the live stream, which it reconnects to with Last-Event-ID and the token.
func TestBrowserSwitchover(t *testing.T) {
	ts, fake := serve(t)
	ctx, _ := dashtest.Browser(t)
	t.Cleanup(func() { dashtest.Screenshot(t, ctx, t.Name()) })

	do(t, ctx, "loading the page", chromedp.Navigate(ts.URL+"/ui"))
	if notice := waitText(t, ctx, "#auth-status", contains("token")); !strings.HasPrefix(notice, "401") {
		t.Errorf("the token notice %q does not start with the status", notice)
	}
	if stale, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.classList.contains("stale")`)); err != nil || !stale {
		t.Errorf("before a token the page is not marked stale (%v, %v)", stale, err)
	}

	do(t, ctx, "entering the token",
		chromedp.SendKeys(chromedp.ID("actor"), "alice"),
		chromedp.SendKeys(chromedp.ID("token"), adminToken),
		chromedp.Click(chromedp.ID("btn-token")))
	waitText(t, ctx, "#primary", equals("h1:27017"))
	if stale, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.classList.contains("stale")`)); err != nil || stale {
		t.Errorf("the page still looks stale after a good read (%v, %v)", stale, err)
	}
	waitText(t, ctx, "#health", equals("degraded"))
	waitText(t, ctx, "#set-name", equals("rs0"))
	waitText(t, ctx, `tr[data-host="h2:27017"] td.state`, equals("SECONDARY"))
	waitText(t, ctx, `#matrix td[data-sidecar="s1"][data-host="h3:27017"]`, equals("✗"))
	waitText(t, ctx, `#resync-text`, contains("42 %"))
	waitText(t, ctx, `#auto-failover`, contains("anti_flap"))
	waitText(t, ctx, `#timeline li[data-id="ev-1"]`, contains("h1:27017 became primary"))
	waitText(t, ctx, "#stream-status", equals("live"))
	if auth, err := dashtest.WaitText(ctx, "#auth-status", time.Second, equals("")); err != nil {
		t.Errorf("the token notice stays after a good token: %q", auth)
	}

	do(t, ctx, "planning the switchover",
		chromedp.WaitReady(chromedp.CSS(`#switchover-to option[value="h3:27017"]`)),
		chromedp.SetValue(chromedp.ID("switchover-to"), "h3:27017"),
		chromedp.SendKeys(chromedp.ID("why"), "kernel upgrade on h1"),
		chromedp.Click(chromedp.ID("btn-switchover")),
		chromedp.WaitVisible(chromedp.ID("confirm-dialog")))
	plan := waitText(t, ctx, "#plan", contains("step_up"))
	for _, want := range []string{"switchover_planned", "wait_catch_up", "step_down", "h3:27017"} {
		if !strings.Contains(plan, want) {
			t.Errorf("the plan dialog does not show %q: %q", want, plan)
		}
	}
	dashtest.Screenshot(t, ctx, t.Name()+"-plan")
	dry, runs, _, primary := fake.snapshot()
	if len(dry) != 1 || len(runs) != 0 || primary != "h1:27017" {
		t.Fatalf("after planning: %d dry runs, %d runs, primary %s; want 1, 0, h1:27017", len(dry), len(runs), primary)
	}
	if dry[0].To != "h3:27017" || dry[0].Actor != "alice" || dry[0].Why != "kernel upgrade on h1" {
		t.Errorf("the dry run asked %+v, want to h3:27017 by alice with the why", dry[0])
	}

	do(t, ctx, "confirming", chromedp.Click(chromedp.ID("confirm")))
	waitText(t, ctx, "#primary", equals("h3:27017"))
	waitText(t, ctx, `tr[data-host="h1:27017"] td.state`, equals("SECONDARY"))
	result := waitText(t, ctx, "#result", contains("done"))
	if !strings.Contains(result, "switchover_done") {
		t.Errorf("#result shows %q, want the reason switchover_done", result)
	}
	waitText(t, ctx, `#timeline li[data-id="ev-2"][data-kind="action"]`, contains("switchover from h1:27017 to h3:27017"))
	_, runs, _, _ = fake.snapshot()
	if len(runs) != 1 || runs[0].To != "h3:27017" {
		t.Fatalf("after confirming: runs %+v, want one switchover to h3:27017", runs)
	}

	// The stream ended after the live event: the page must come back with the last ID it saw.
	deadline := time.Now().Add(waitUI)
	for {
		_, _, streams, _ := fake.snapshot()
		last := streams[len(streams)-1]
		if last.LastEventID == "ev-2" {
			if last.Auth != adminToken {
				t.Errorf("the reconnected stream sent the token %q, want the admin token", last.Auth)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not reconnect to /v1/events with Last-Event-ID ev-2: %+v", streams)
		}
		time.Sleep(50 * time.Millisecond) // polling the fake's record, not waiting for time to pass
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#timeline li').length`))
	if err != nil || n != 2 {
		t.Errorf("the timeline has %d entries (%v), want 2 (each event once after the reconnect)", n, err)
	}

	// A read token cannot act: the page says which token is needed.
	do(t, ctx, "switching to the read token",
		// chromedp.Clear sets the value attribute, which a typed-in input no longer shows, and
		// SetValue refuses "".
		chromedp.Evaluate[chromedp.Void](`document.getElementById("token").value = ""`),
		chromedp.SendKeys(chromedp.ID("token"), readToken),
		chromedp.Click(chromedp.ID("btn-token")),
		chromedp.Click(chromedp.ID("btn-acknowledge")))
	denied := waitText(t, ctx, "#result", contains("403"))
	if !strings.Contains(denied, "admin token") {
		t.Errorf("#result after a 403 shows %q, want it to name the admin token", denied)
	}

	if errs := dashtest.JSErrors(ctx); len(errs) > 0 {
		t.Errorf("the page logged JavaScript errors:\n%s", strings.Join(errs, "\n"))
	}
}
