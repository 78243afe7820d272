package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rsguard/rsguard/dashboard/dashtest"
	"github.com/rsguard/rsguard/e2e/harness"
)

// The dashboard against real sidecars, in headless Chromium: a three-member set with its sidecars
// and an arbiter sidecar; the page served by a secondary's sidecar shows the primary, the
// operator enters the admin token, picks another secondary, reads the dry-run plan, confirms,
// and sees the new primary (and the switchover in the timeline). A screenshot is kept as a test
// artifact ($RSGUARD_ARTIFACTS, default artifacts/). Skips without a Chromium.
func TestDashboardSwitchover(t *testing.T) {
	if _, err := dashtest.FindBrowser(); err != nil {
		t.Skipf("no headless browser: %v", err)
	}
	_, supBin := harness.BuildOnce(t)
	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	cars := newSidecars(t, supBin, "rs0", d.data, d.bare, sidecarOpts{})
	defer killSidecars(cars)
	cars.Start(t)
	cars.WaitSettled(t, drillSettleTimeout)
	p := d.WaitHealthy(t, drillRejoinTimeout)
	var served, target *harness.Host
	for _, h := range d.data {
		switch {
		case h == p:
		case served == nil:
			served = h
		default:
			target = h
		}
	}
	ctx, cancel := dashtest.Browser(t)
	defer cancel()
	dashtest.Open(t, ctx, "http://"+cars.ByHost(served).HTTP, "e2e-browser", sidecarToken)
	wait := func(sel string, ok func(string) bool) string {
		t.Helper()
		text, err := dashtest.WaitText(ctx, sel, 30*time.Second, ok)
		if err != nil {
			dashtest.Screenshot(t, ctx, t.Name()+"-failed")
			t.Fatalf("%v\nconsole:\n%s", err, strings.Join(dashtest.ConsoleLines(ctx), "\n"))
		}
		return text
	}
	wait("#primary", func(s string) bool { return s == p.HostPort() })
	wait("#health", func(s string) bool { return strings.Contains(s, "healthy") })
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		actx, acancel := context.WithTimeout(ctx, 30*time.Second)
		defer acancel()
		if err := chromedp.Do(actx, actions...); err != nil {
			dashtest.Screenshot(t, ctx, t.Name()+"-failed")
			t.Fatalf("%s: %v\nconsole:\n%s", what, err, strings.Join(dashtest.ConsoleLines(ctx), "\n"))
		}
	}
	d.c.Timeline.Mark("dashboard: switchover to %s clicked on %s's page", target, served)
	run("planning the switchover",
		chromedp.WaitReady(chromedp.CSS(`#switchover-to option[value="`+target.HostPort()+`"]`)),
		chromedp.SetValue(chromedp.ID("switchover-to"), target.HostPort()),
		chromedp.SendKeys(chromedp.ID("why"), "e2e: dashboard switchover"),
		chromedp.Click(chromedp.ID("btn-switchover")),
		chromedp.WaitVisible(chromedp.ID("confirm-dialog")))
	plan := wait("#plan", func(s string) bool { return strings.Contains(s, "step_up") })
	if !strings.Contains(plan, target.HostPort()) || !strings.Contains(plan, "step_down") {
		t.Errorf("the plan dialog: %q", plan)
	}
	run("confirming", chromedp.Click(chromedp.ID("confirm")))
	wait("#primary", func(s string) bool { return s == target.HostPort() })
	wait("#result", func(s string) bool { return strings.Contains(s, "switchover_done") })
	wait(`#timeline li[data-kind="action"]`, func(s string) bool { return strings.Contains(s, "switchover") })
	d.c.Timeline.Mark("dashboard: %s shown as the primary", target)
	if np, _, err := d.newPrimary(context.Background(), p, drillRejoinTimeout); err != nil || np != target {
		t.Errorf("the set's primary is %v (%v), want %s", np, err, target)
	}
	dashtest.Screenshot(t, ctx, t.Name())
	if errs := dashtest.JSErrors(ctx); len(errs) > 0 {
		t.Errorf("JavaScript errors on the page: %q", errs)
	}
}
