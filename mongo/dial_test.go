package mongo

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestDialURIForms(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, uri := range []string{"127.0.0.2:27017", "mongodb://127.0.0.2:27017/?appName=x"} {
		n, err := Dial(t.Context(), log, Options{URI: uri})
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		if n.Addr() != "127.0.0.2:27017" {
			t.Errorf("%s: addr %q", uri, n.Addr())
		}
		n.Close(t.Context())
	}
	if _, err := Dial(t.Context(), log, Options{URI: "mongodb://a:1,b:2"}); err == nil {
		t.Error("two hosts accepted: rsguard talks to one mongod")
	}
	if _, err := Dial(t.Context(), log, Options{}); err == nil {
		t.Error("empty URI accepted")
	}
}

func TestPasswordNeverShown(t *testing.T) {
	const secret = "s3cr3t-pw"
	log := slog.New(slog.DiscardHandler)
	_, err := Dial(t.Context(), log, Options{URI: "mongodb://admin:" + secret + "@h:1/?connectTimeoutMS=nope"})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("dial error shows the password or is nil: %v", err)
	}
	if got := redactURI("mongodb://admin:" + secret + "@h:1/"); strings.Contains(got, secret) {
		t.Errorf("redactURI: %s", got)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("dial", "opts", Options{URI: "mongodb://h:1", Username: "admin", Password: secret})
	if strings.Contains(buf.String(), secret) || !strings.Contains(buf.String(), "password_set=true") {
		t.Errorf("logged options: %s", buf.String())
	}
	var dbg bytes.Buffer
	n, err := Dial(t.Context(), slog.New(slog.NewTextHandler(&dbg, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Options{URI: "h:1", Username: "admin", Password: secret})
	if err != nil {
		t.Fatal(err)
	}
	n.Close(t.Context())
	if strings.Contains(dbg.String(), secret) {
		t.Errorf("dial log: %s", dbg.String())
	}
}
