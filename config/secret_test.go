package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// secretConfig loads a config holding every kind of secret.
func secretConfig(t *testing.T) *Config {
	t.Helper()
	sys := newFakeSys()
	sys.files["/etc/rsguard/gossip.keyring"] = b64(32) + "\n"
	sys.env["TOKEN"] = "T0ken-Value-42"
	text := applyEdits(t, baseYAML,
		edit{"  listen: 127.0.0.2:9216\n", "  listen: 127.0.0.2:9216\n  admin_token_env: TOKEN\n"})
	return mustParse(t, text, sys)
}

func TestSecretsNeverPrinted(t *testing.T) {
	c := secretConfig(t)
	secrets := []string{testPassword, "T0ken-Value-42", strings.Repeat("k", 32), b64(32)}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q", "%T %v"} {
		for _, v := range []any{c, *c, c.Mongod, *c.Mongod, c.Mongod.Password, c.HTTP, c.Gossip, c.Gossip.Keyring} {
			outputs = append(outputs, fmt.Sprintf(verb, v))
		}
	}
	outputs = append(outputs, fmt.Sprint(c.Mongod.Password), fmt.Sprintln(*c.Mongod))
	for _, v := range []any{c, c.Mongod, c.HTTP, c.Gossip} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(b))
	}
	y, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(y))
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("config", "cfg", c, "mongod", c.Mongod, "pw", c.Mongod.Password, "http", c.HTTP, "gossip", c.Gossip)
		l.Info("config", slog.Any("whole", *c))
	}
	outputs = append(outputs, buf.String())
	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Fatalf("secret %q leaked in output:\n%s", s, out)
			}
		}
	}
	if !strings.Contains(fmt.Sprintf("%+v", *c.Mongod), "Password:[redacted]") {
		t.Errorf("redaction marker missing: %+v", *c.Mongod)
	}
	if got := fmt.Sprintf("%#v", c.Mongod.Password); got != `config.Secret("[redacted]")` {
		t.Errorf("%%#v = %s", got)
	}
	if b, _ := json.Marshal(c.Mongod); !strings.Contains(string(b), `"password":"[redacted]"`) {
		t.Errorf("json: %s", b)
	}
	if c.Mongod.Password.Reveal() != testPassword || c.HTTP.AdminToken.Reveal() != "T0ken-Value-42" {
		t.Error("Reveal does not return the value")
	}
}

func TestUnsetSecretPrintsEmpty(t *testing.T) {
	var s Secret
	if s.String() != "" || s.IsSet() || fmt.Sprintf("%v", s) != "" {
		t.Errorf("unset secret prints %q", s.String())
	}
	if NewSecret("x").String() != "[redacted]" {
		t.Error("set secret not redacted")
	}
}

func TestLogValueSummary(t *testing.T) {
	c := secretConfig(t)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", "config", c)
	var rec struct {
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"id": "node-a", "mode": "data", "quorum": 2.0, "members": 3.0, "gossip_encrypted": true, "zone": "zone-a"} {
		if rec.Config[k] != want {
			t.Errorf("summary %s = %v, want %v", k, rec.Config[k], want)
		}
	}
}
