package config

import (
	"fmt"
	"log/slog"
)

const redacted = "[redacted]"

// Secret holds a credential read at load time. Every way of printing or encoding it (fmt verbs,
// slog, JSON, YAML, text marshalling) yields "[redacted]", or "" when it is unset, so a Config can
// be logged or dumped whole. Only Reveal returns the value; call it where the credential is used.
//
// The value sits behind a pointer so that even printers that bypass the methods (fmt on a bad
// verb, reflection-based dumpers) show an address rather than the contents.
type Secret struct{ p *secretValue }

type secretValue struct{ v string }

// NewSecret wraps a value, for tests and for callers that build a Config by hand.
func NewSecret(v string) Secret { return Secret{&secretValue{v}} }

// Reveal returns the secret value.
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return s.p.v
}

// IsSet reports whether the secret holds a non-empty value.
func (s Secret) IsSet() bool { return s.Reveal() != "" }

func (s Secret) shown() string {
	if !s.IsSet() {
		return ""
	}
	return redacted
}

// String implements fmt.Stringer.
func (s Secret) String() string { return s.shown() }

// GoString implements fmt.GoStringer, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.shown()) }

// Format implements fmt.Formatter so that no verb (%d, %x, %+v...) reaches the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(s.shown()))
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.shown()) }

// MarshalText implements encoding.TextMarshaler (and with it JSON map keys and other encoders).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.shown() + `"`), nil }

// MarshalYAML implements yaml.Marshaler.
func (s Secret) MarshalYAML() (any, error) { return s.shown(), nil }
