package api

import "testing"

// Warnings ride along in /readyz without changing its code: 200 when ready, 503 when not.
func TestReadyzShowsWarnings(t *testing.T) {
	ready, warn := true, []string{"gossip is not authenticated"}
	h := New(nil, nil, Options{
		Ready:    func() (bool, []string) { return ready, []string{"gossip has not settled"} },
		Warnings: func() []string { return warn },
	})
	if w := do(h, "GET", "/readyz", "", ""); w.Code != 200 || w.Body.String() != "ready\nwarning: gossip is not authenticated\n" {
		t.Errorf("ready with a warning: %d %q", w.Code, w.Body)
	}
	ready = false
	if w := do(h, "GET", "/readyz", "", ""); w.Code != 503 ||
		w.Body.String() != "not ready:\n- gossip has not settled\nwarning: gossip is not authenticated\n" {
		t.Errorf("not ready with a warning: %d %q", w.Code, w.Body)
	}
	ready, warn = true, nil
	if w := do(h, "GET", "/readyz", "", ""); w.Code != 200 || w.Body.String() != "ready\n" {
		t.Errorf("no warnings: %d %q", w.Code, w.Body)
	}
}
