package dashboard

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandlerServesIndexAtUI(t *testing.T) {
	w := get(t, Handler(), http.MethodGet, "/ui/", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /ui/: %d %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET /ui/: Content-Type %q, want text/html", ct)
	}
	body := w.Body.String()
	for _, want := range []string{`id="primary"`, `id="health"`, `id="btn-switchover"`, `id="confirm"`,
		`id="result"`, `id="timeline"`, `src="app.js"`, `href="style.css"`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /ui/: the page has no %s", want)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("GET /ui/: Content-Security-Policy %q does not keep the page to its origin", csp)
	}
}

func TestHandlerRedirectsUIToUISlash(t *testing.T) {
	w := get(t, Handler(), http.MethodGet, "/ui", nil)
	if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/ui/" {
		t.Fatalf("GET /ui: %d Location %q, want 301 to /ui/", w.Code, w.Header().Get("Location"))
	}
}

func TestHandlerAssetContentTypes(t *testing.T) {
	for path, want := range map[string]string{
		"/ui/app.js":     "text/javascript",
		"/ui/api.js":     "text/javascript",
		"/ui/style.css":  "text/css",
		"/ui/index.html": "", // FileServer redirects index.html to ./
	} {
		w := get(t, Handler(), http.MethodGet, path, nil)
		if want == "" {
			if w.Code != http.StatusMovedPermanently {
				t.Errorf("GET %s: %d, want a redirect to ./", path, w.Code)
			}
			continue
		}
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, w.Code)
			continue
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("GET %s: Content-Type %q, want %s", path, ct, want)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", path)
		}
	}
}

func TestHandlerRevalidatesWithETag(t *testing.T) {
	h := Handler()
	w := get(t, h, http.MethodGet, "/ui/app.js", nil)
	tag := w.Header().Get("ETag")
	if tag == "" {
		t.Fatal("GET /ui/app.js: no ETag")
	}
	w = get(t, h, http.MethodGet, "/ui/app.js", http.Header{"If-None-Match": {tag}})
	if w.Code != http.StatusNotModified {
		t.Fatalf("GET /ui/app.js If-None-Match %s: %d, want 304", tag, w.Code)
	}
}

func TestHandlerRefusesOtherPathsAndMethods(t *testing.T) {
	h := Handler()
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/ui/nope.js", http.StatusNotFound},
		{http.MethodGet, "/v1/cluster", http.StatusNotFound},
		{http.MethodGet, "/uix", http.StatusNotFound},
		{http.MethodPost, "/ui/", http.StatusMethodNotAllowed},
	} {
		if w := get(t, h, c.method, c.path, nil); w.Code != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, w.Code, c.code)
		}
	}
}

// TestAssetsHaveNoExternalURLs keeps the dashboard usable on an air-gapped network: no CDN, no
// web font, no analytics.
func TestAssetsHaveNoExternalURLs(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	n := 0
	err := fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := fs.ReadFile(static, path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(strings.ToLower(line), "http://") || strings.Contains(strings.ToLower(line), "https://") ||
				external.MatchString(line) {
				t.Errorf("%s:%d: external URL: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Fatalf("found %d embedded files, want index.html, app.js, api.js and style.css", n)
	}
}
