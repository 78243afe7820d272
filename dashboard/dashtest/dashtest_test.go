package dashtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestJSErrorsSeesExceptionsNotNetwork checks that the collector catches what a broken page
// does (an uncaught exception, an unhandled rejection, console.error) and not a request the
// server refused, which the dashboard reports on the page itself.
func TestJSErrorsSeesExceptionsNotNetwork(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><link rel="icon" href="data:,"><p id="done">no</p><script>
fetch('/refused').then(() => {
  console.log('plain log');
  console.error('console error');
  Promise.reject(new Error('rejected'));
  setTimeout(() => { document.getElementById('done').textContent = 'yes'; throw new Error('thrown'); });
});
</script>`))
	}))
	t.Cleanup(ts.Close)
	ctx, _ := Browser(t)
	actx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(actx, chromedp.Navigate(ts.URL)); err != nil {
		t.Fatal(err)
	}
	if _, err := WaitText(ctx, "#done", 20*time.Second, func(s string) bool { return s == "yes" }); err != nil {
		t.Fatal(err)
	}
	want := []string{"console error", "rejected", "thrown"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		errs := strings.Join(JSErrors(ctx), "\n")
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return strings.Contains(errs, w) })
		if len(missing) == 0 {
			if strings.Contains(errs, "plain log") || strings.Contains(errs, "401") {
				t.Errorf("JSErrors counts a log line or a refused request:\n%s", errs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("JSErrors misses %q; it has:\n%s\nconsole:\n%s", missing, errs, strings.Join(ConsoleLines(ctx), "\n"))
		}
		time.Sleep(20 * time.Millisecond) // polling the collector, which the browser fills
	}
	if !slices.ContainsFunc(ConsoleLines(ctx), func(l string) bool { return strings.Contains(l, "plain log") }) {
		t.Errorf("ConsoleLines misses the plain log: %q", ConsoleLines(ctx))
	}
}

func TestArtifactsDir(t *testing.T) {
	t.Setenv("RSGUARD_ARTIFACTS", "/tmp/x")
	if d, err := ArtifactsDir(); err != nil || d != "/tmp/x" {
		t.Errorf("with RSGUARD_ARTIFACTS: %q %v", d, err)
	}
	t.Setenv("RSGUARD_ARTIFACTS", "")
	d, err := ArtifactsDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(d), "go.mod")); err != nil || filepath.Base(d) != "artifacts" {
		t.Errorf("default artifacts dir %q is not artifacts/ beside go.mod (%v)", d, err)
	}
}
