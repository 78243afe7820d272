package apiclient

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func asTransport(err error, te **TransportError) bool { return errors.As(err, te) }

func TestNewAddr(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := newTestCA(t)
	for _, tc := range []struct {
		o       Options
		url     string
		wantErr string
	}{
		{o: Options{Addr: "127.0.0.1:9216"}, url: "http://127.0.0.1:9216"},
		{o: Options{Addr: " http://127.0.0.2:9216/ "}, url: "http://127.0.0.2:9216"},
		{o: Options{Addr: "https://db1.example:9216/rsguard/"}, url: "https://db1.example:9216/rsguard"},
		{o: Options{Addr: "127.0.0.1:9216", CAFile: good.caFile}, url: "https://127.0.0.1:9216"},
		{o: Options{Addr: ""}, wantErr: "Addr is empty"},
		{o: Options{Addr: "ftp://h:1"}, wantErr: `scheme "ftp"`},
		{o: Options{Addr: "127.0.0.1:99999"}, wantErr: `port "99999"`},
		{o: Options{Addr: "http://:9216"}, wantErr: "no host"},
		{o: Options{Addr: "http://127.0.0.1:9216", CAFile: good.caFile}, wantErr: "is http:// but TLS files are given"},
		{o: Options{Addr: "h:1", CAFile: filepath.Join(dir, "missing.pem")}, wantErr: "CAFile: open " + filepath.Join(dir, "missing.pem")},
		{o: Options{Addr: "h:1", CAFile: ca}, wantErr: "CAFile " + ca + ": no PEM certificate"},
		{o: Options{Addr: "h:1", CertFile: good.certFile}, wantErr: "CertFile " + good.certFile + " is given without KeyFile"},
		{o: Options{Addr: "h:1", CertFile: good.certFile, KeyFile: filepath.Join(dir, "nokey.pem")}, wantErr: "KeyFile: stat " + filepath.Join(dir, "nokey.pem")},
	} {
		c, err := New(tc.o)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("New(%+v): %v, want an error with %q", tc.o, err, tc.wantErr)
		case tc.wantErr == "" && err != nil:
			t.Errorf("New(%+v): %v", tc.o, err)
		case tc.wantErr == "" && c.URL() != tc.url:
			t.Errorf("New(%+v).URL() = %s, want %s", tc.o, c.URL(), tc.url)
		}
	}
}

func TestTransportError(t *testing.T) {
	srv := newFake(t)
	url := srv.URL
	srv.Close()
	c, _ := New(Options{Addr: url})
	_, err := c.Cluster(context.Background())
	var te *TransportError
	if !errors.As(err, &te) || AsProblem(err) != nil || !strings.Contains(err.Error(), "GET "+url+"/v1/cluster") {
		t.Fatalf("closed server: %v, want a transport error naming the URL", err)
	}
}
