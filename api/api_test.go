package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type stub struct {
	ready   bool
	reasons []string
	acks    []string
	ackErr  error
}

func newStub(t *testing.T, token string) (*stub, http.Handler, *prometheus.Registry) {
	t.Helper()
	s := &stub{ready: true}
	reg := prometheus.NewRegistry()
	h := New(nil, reg, Options{
		Status: func() any { return map[string]any{"sidecar": "a", "ready": s.ready} },
		Ready:  func() (bool, []string) { return s.ready, s.reasons },
		Act: func(_ context.Context, action, _ string, req ActionRequest, dry bool) (ActionResult, error) {
			if s.ackErr != nil {
				return ActionResult{}, s.ackErr
			}
			s.acks = append(s.acks, "operator:"+req.Actor)
			return ActionResult{Action: action, Actor: "operator:" + req.Actor, State: StateDone}, nil
		},
		AdminToken: token,
		Gatherer:   reg,
	})
	return s, h, reg
}

func do(h http.Handler, method, target, auth, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHealthReadyStatus(t *testing.T) {
	s, h, _ := newStub(t, "")
	if w := do(h, "GET", "/healthz", "", ""); w.Code != 200 || w.Body.String() != "ok\n" {
		t.Errorf("healthz: %d %q", w.Code, w.Body)
	}
	if w := do(h, "GET", "/readyz", "", ""); w.Code != 200 {
		t.Errorf("readyz ready: %d %q", w.Code, w.Body)
	}
	s.ready, s.reasons = false, []string{"gossip has not settled", "local mongod 127.0.0.2:27017 belongs to replica set \"x\""}
	w := do(h, "GET", "/readyz", "", "")
	if w.Code != 503 || !strings.Contains(w.Body.String(), "- gossip has not settled\n") || !strings.Contains(w.Body.String(), `"x"`) {
		t.Errorf("readyz not ready: %d %q", w.Code, w.Body)
	}
	w = do(h, "GET", "/v1/status?pretty=1", "", "")
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 || got["sidecar"] != "a" {
		t.Errorf("status: %d %v %q", w.Code, err, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("status content type %q", ct)
	}
	if w := do(h, "POST", "/v1/status", "", ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST status: %d", w.Code)
	}
	if w := do(h, "GET", "/v1/acknowledge", "", ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET acknowledge: %d", w.Code)
	}
}

func TestAcknowledgeWithoutConfiguredToken(t *testing.T) {
	s, h, _ := newStub(t, "")
	w := do(h, "POST", "/v1/acknowledge", "Bearer anything", "")
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "no admin token is configured") {
		t.Errorf("got %d %q", w.Code, w.Body)
	}
	if len(s.acks) != 0 {
		t.Errorf("acknowledged without a token: %v", s.acks)
	}
}

func TestAcknowledgeToken(t *testing.T) {
	s, h, reg := newStub(t, "s3cret")
	cases := []struct {
		auth, body string
		code       int
	}{
		{"", "", http.StatusUnauthorized},
		{"Basic czNjcmV0", "", http.StatusUnauthorized},
		{"Bearer wrong", "", http.StatusUnauthorized},
		{"Bearer s3cret", `{"actor": "bad actor!"}`, http.StatusBadRequest},
		{"Bearer s3cret", `not json`, http.StatusBadRequest},
		{"Bearer s3cret", `{"actor": "alice"}`, http.StatusOK},
		{"bearer s3cret", "", http.StatusOK},
	}
	for _, c := range cases {
		w := do(h, "POST", "/v1/acknowledge", c.auth, c.body)
		if w.Code != c.code {
			t.Errorf("auth %q body %q: %d %q, want %d", c.auth, c.body, w.Code, w.Body, c.code)
		}
		if strings.Contains(w.Body.String(), "s3cret") {
			t.Errorf("token echoed: %q", w.Body)
		}
	}
	if len(s.acks) != 2 || s.acks[0] != "operator:alice" || s.acks[1] != "operator:api@192.0.2.1" {
		t.Errorf("acks = %v", s.acks)
	}
	s.ackErr = errors.New("disk full")
	if w := do(h, "POST", "/v1/acknowledge?actor=bob", "Bearer s3cret", ""); w.Code != 500 || !strings.Contains(w.Body.String(), "disk full") {
		t.Errorf("failing acknowledge: %d %q", w.Code, w.Body)
	}
	w := do(h, "GET", "/metrics", "", "")
	for _, want := range []string{
		`rsguard_api_requests_total{code="401",handler="acknowledge"} 3`,
		`rsguard_api_admin_denied_total{reason="bad_token"} 1`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	_ = reg
}

func TestServeGracefulAndTLS(t *testing.T) {
	_, h, _ := newStub(t, "")
	for _, useTLS := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var tc *tls.Config
		client := &http.Client{Timeout: 5 * time.Second}
		scheme := "http"
		if useTLS {
			certFile, keyFile, pool := selfSigned(t)
			if tc, err = TLSConfig(certFile, keyFile, ""); err != nil {
				t.Fatal(err)
			}
			client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
			scheme = "https"
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Serve(ctx, ln, h, tc) }()
		resp, err := client.Get(scheme + "://" + ln.Addr().String() + "/healthz")
		if err != nil {
			t.Fatalf("tls=%v: %v", useTLS, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "ok\n" {
			t.Errorf("tls=%v: %d %q", useTLS, resp.StatusCode, body)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("tls=%v: Serve after cancel: %v", useTLS, err)
		}
	}
	if _, err := TLSConfig("/nonexistent.crt", "/nonexistent.key", ""); err == nil {
		t.Error("TLSConfig accepted missing files")
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rsguard test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, pool
}
