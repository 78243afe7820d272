package apiclient

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// fake is a test server with a mux the test fills.
type fake struct {
	*httptest.Server
	mux *http.ServeMux
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{mux: http.NewServeMux()}
	f.Server = httptest.NewServer(f.mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fake) client(t *testing.T, o Options) *Client {
	t.Helper()
	o.Addr = f.URL
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeProblem(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
