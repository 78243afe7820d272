package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// contractFake is an httptest server faking the /v1 contract: each test registers the
// answers it needs, and every request is recorded for the test to check.
type contractFake struct {
	*httptest.Server
	mux  *http.ServeMux
	mu   sync.Mutex
	reqs []seenRequest
}

// seenRequest is what the fake received.
type seenRequest struct {
	Method, Path, Query, Auth, LastEventID string
	Body                                   map[string]any
}

func newContractFake(t *testing.T) *contractFake {
	t.Helper()
	f := &contractFake{mux: http.NewServeMux()}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen := seenRequest{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
			Auth: r.Header.Get("Authorization"), LastEventID: r.Header.Get("Last-Event-ID")}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			if err := json.Unmarshal(b, &seen.Body); err != nil {
				t.Errorf("%s %s: body is not JSON: %s", r.Method, r.URL, b)
			}
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, seen)
		f.mu.Unlock()
		f.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	// No token leaks from the environment of whoever runs the tests.
	t.Setenv("RSGUARD_TOKEN", "")
	t.Setenv("RSGUARD_ADDR", "")
	return f
}

// requests returns what the fake received so far.
func (f *contractFake) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.reqs...)
}

// only returns the one request received, failing the test otherwise.
func (f *contractFake) only(t *testing.T) seenRequest {
	t.Helper()
	rs := f.requests()
	if len(rs) != 1 {
		t.Fatalf("%d requests, want 1: %+v", len(rs), rs)
	}
	return rs[0]
}

func (f *contractFake) answer(pattern string, code int, v any) {
	f.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ct := "application/json"
		if code >= 400 {
			ct = "application/problem+json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	})
}

// tokenFile writes a token file and returns its path.
func tokenFile(t *testing.T, token string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runMainCtx is runMain with a context (for the commands that follow until Ctrl-C).
func runMainCtx(ctx context.Context, args ...string) (int, string, string) {
	var out, errb syncBuffer
	code := Main(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}
