// Package dashboard is the sidecar's web dashboard (DESIGN.md L2): a single-page app embedded in
// the binary and served under /ui/. It has no external assets, no CDN and no build step, and it
// talks to the sidecar only through the /v1 API (api/doc.go), so whatever it shows, the CLI and
// apiclient can show too, and it needs no server code of its own beyond serving these files.
//
// Mount it on the API's mux for both "/ui" and "/ui/": it redirects the first to the second.
// Serve it without a token: a browser cannot send a bearer token when it loads a page, so the
// page asks the operator for one and sends it with every /v1 request (stored in the tab's
// sessionStorage only). The files hold no data, only code.
package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// csp keeps the page to its own origin: no external script, style, image or connection can load,
// even if a field the API returns were ever rendered as markup by mistake.
const csp = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; " +
	"frame-ancestors 'none'"

// Handler serves the dashboard at /ui/ (index.html) and its assets at /ui/<name>; /ui redirects
// to /ui/ so that the page's relative URLs (../v1/...) resolve.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		// The embed directive above guarantees the directory; this cannot happen at run time.
		panic("dashboard: the embedded static directory is missing: " + err.Error())
	}
	tags, err := etags(files)
	if err != nil {
		panic("dashboard: reading the embedded assets: " + err.Error())
	}
	fileServer := http.StripPrefix("/ui/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the dashboard is read with GET", http.StatusMethodNotAllowed)
			return
		}
		switch {
		case r.URL.Path == "/ui":
			http.Redirect(w, r, "/ui/", http.StatusMovedPermanently)
			return
		case !strings.HasPrefix(r.URL.Path, "/ui/"):
			http.NotFound(w, r)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/ui/")
		if name == "" {
			name = "index.html"
		}
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The assets change with the binary: revalidate every time, the ETag makes it cheap.
		h.Set("Cache-Control", "no-cache")
		if tag, ok := tags[name]; ok {
			h.Set("ETag", tag)
		}
		fileServer.ServeHTTP(w, r)
	})
}

// etags hashes every embedded file once, so that a reload costs a 304 rather than the assets.
func etags(files fs.FS) (map[string]string, error) {
	tags := map[string]string{}
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		tags[path] = `"` + hex.EncodeToString(sum[:8]) + `"`
		return nil
	})
	return tags, err
}
