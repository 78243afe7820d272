package config

import (
	"fmt"
	"strings"
	"time"
)

// checker records validation problems against the positions the decoder saw.
type checker struct{ p *problems }

func (k checker) errf(key, format string, args ...any) { k.report(key, fmt.Sprintf(format, args...)) }

// report records a validation problem unless the key already failed to decode.
func (k checker) report(key, msg string) {
	if !k.p.failed(key) {
		k.p.at(key, msg)
	}
}

// required reports a missing or empty string value.
func (k checker) required(key, got, hint string) bool {
	if got != "" {
		return true
	}
	msg := "is required"
	if hint != "" {
		msg += ": " + hint
	}
	k.report(key, msg)
	return false
}

// durRange checks lo <= d <= hi; false means cross-field rules involving d should be skipped.
func (k checker) durRange(key string, d, lo, hi time.Duration) bool {
	switch {
	case k.p.failed(key):
		return false
	case d < lo:
		k.errf(key, "must be at least %s, got %q", fmtDur(lo), fmtDur(d))
	case d > hi:
		k.errf(key, "must be at most %s, got %q", fmtDur(hi), fmtDur(d))
	default:
		return true
	}
	return false
}

func (k checker) intRange(key string, v, lo, hi int) {
	if v < lo || v > hi {
		k.errf(key, "must be from %d to %d, got %d", lo, hi, v)
	}
}

// enum checks that got is one of allowed, suggesting the closest on a typo.
func (k checker) enum(key, got string, allowed ...string) bool {
	for _, a := range allowed {
		if got == a {
			return true
		}
	}
	var quoted []string
	omittable := ""
	for _, a := range allowed {
		if a == "" {
			omittable = " (or be omitted)"
			continue
		}
		quoted = append(quoted, fmt.Sprintf("%q", a))
	}
	list := strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
	msg := fmt.Sprintf("must be %s%s, got %s", list, omittable, quote(got))
	if best := closest(got, allowed); best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	k.report(key, msg)
	return false
}

func (k checker) addr(key, s string, r addrRules) bool {
	if msg := checkAddr(s, r); msg != "" {
		k.report(key, msg)
		return false
	}
	return true
}

// fmtDur prints a duration the way people write it in the file: 5m rather than 5m0s.
func fmtDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// isID is a lowercase DNS label: [a-z0-9-]{1,63}, starting and ending with a letter or digit.
func isID(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// isName is [A-Za-z0-9._-]{1,max}: replica set names, zones, tag names.
func isName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// isEnvName is a portable environment variable name: [A-Za-z_][A-Za-z0-9_]*.
func isEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
