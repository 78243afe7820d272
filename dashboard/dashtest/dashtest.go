// Package dashtest drives the dashboard in a headless Chromium for tests: the dashboard's own
// browser test and the e2e test against real sidecars share it. It is not a _test file so that
// e2e can import it; only tests should.
package dashtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browsers are the names Chromium goes by on PATH (Debian's package installs "chromium").
var browsers = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"}

// FindBrowser returns the first Chromium-like browser on PATH, or an error listing the names tried.
func FindBrowser() (string, error) {
	for _, name := range browsers {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no browser on PATH (tried %s; on Debian: apt-get install chromium)",
		strings.Join(browsers, ", "))
}

type pageKey struct{}

// page collects what the page said on its console while the test ran.
type page struct {
	mu     sync.Mutex
	errors []string
	logs   []string
}

// Browser starts a headless browser for t and returns a chromedp context on one tab, already
// started, and its cancel (also registered with t.Cleanup). It skips t, with the reason, when no
// browser is on PATH. It runs with --no-sandbox, which Chromium needs as root (CI runs as root).
// The page's console errors and uncaught exceptions are collected for JSErrors; every console
// line is logged with t.Log.
func Browser(t testing.TB) (context.Context, context.CancelFunc) {
	t.Helper()
	path, err := FindBrowser()
	if err != nil {
		t.Skip(err.Error())
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	logf := &testLog{t: t}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf.Logf))
	cancel := func() { cancelTab(); cancelAlloc(); logf.stop() }
	t.Cleanup(cancel)
	// The first Run starts the browser and binds it to ctx: no timeout on it (chromedp.NewContext).
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", path, err)
	}
	p := &page{}
	ctx = context.WithValue(ctx, pageKey{}, p)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.add(m)
		}
	}()
	return ctx, cancel
}

// testLog passes chromedp's errors to t.Logf until the browser is gone: a t.Logf after the test
// has ended panics, and chromedp's goroutines can outlive it by a moment.
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (l *testLog) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("chromedp: "+format, args...)
	}
}

func (l *testLog) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done = true
}

func (p *page) add(m chromedp.ConsoleMessage) {
	line := m.String()
	if m.URL != "" {
		line += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logs = append(p.logs, line)
	// A failed request (a 401 the page then explains) is the browser's network log, not the
	// page's JavaScript going wrong.
	if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source != "network") {
		p.errors = append(p.errors, line)
	}
}

// JSErrors returns the console errors and uncaught exceptions the page logged so far.
func JSErrors(ctx context.Context) []string {
	p, ok := ctx.Value(pageKey{}).(*page)
	if !ok {
		return []string{"dashtest.JSErrors: the context does not come from dashtest.Browser"}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// ConsoleLines returns everything the page logged so far, for a failing test's report.
func ConsoleLines(ctx context.Context) []string {
	p, ok := ctx.Value(pageKey{}).(*page)
	if !ok {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.logs...)
}

// ArtifactsDir is $RSGUARD_ARTIFACTS, or artifacts/ at the module root.
func ArtifactsDir() (string, error) {
	if d := os.Getenv("RSGUARD_ARTIFACTS"); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "artifacts"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the module root: no go.mod above the working directory; set RSGUARD_ARTIFACTS")
		}
		dir = parent
	}
}

// Screenshot saves a full-page PNG of the tab as <artifacts>/<name>.png, logs its path and
// returns it. A failure to save is reported with t.Errorf (the screenshot is evidence, not the
// test's subject).
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	dir, err := ArtifactsDir()
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s", abs)
	return abs
}

// WaitText polls the text of the first element matching the CSS selector sel until ok accepts
// it or the timeout passes, and returns the last text seen. chromedp's own waits cannot say
// "until the text is X".
func WaitText(ctx context.Context, sel string, timeout time.Duration, ok func(string) bool) (string, error) {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.textContent : ""; })()`, sel)))
		if err != nil {
			return last, fmt.Errorf("reading %s: %w", sel, err)
		}
		last = text
		if ok(text) {
			return text, nil
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("waiting %v for %s: its text is %q", timeout, sel, last)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Open loads the dashboard at base (the sidecar's URL, without /ui/) and, when token is not
// empty, enters it as the operator actor would; it waits until the page has rendered a cluster
// (#primary no longer shows the placeholder).
func Open(t testing.TB, ctx context.Context, base, actor, token string) {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(strings.TrimSuffix(base, "/") + "/ui/")}
	if actor != "" {
		steps = append(steps, chromedp.SendKeys(chromedp.ID("actor"), actor))
	}
	if token != "" {
		steps = append(steps, chromedp.SendKeys(chromedp.ID("token"), token))
	}
	steps = append(steps, chromedp.Click(chromedp.ID("btn-token")))
	if err := chromedp.Do(actx, steps...); err != nil {
		t.Fatalf("opening the dashboard at %s: %v", base, err)
	}
	if text, err := WaitText(ctx, "#primary", 30*time.Second, func(s string) bool { return s != "…" }); err != nil {
		t.Fatalf("the dashboard at %s shows no cluster (#primary %q): %v\nconsole:\n%s", base, text, err,
			strings.Join(ConsoleLines(ctx), "\n"))
	}
}
