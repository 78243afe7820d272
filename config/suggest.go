package config

import (
	"fmt"
	"reflect"
	"strings"
)

// unknownKeyMsg explains an unknown key: a literal secret gets directions to the file/env form,
// a typo gets the closest key of the same section, a key put in the wrong section gets its
// full path.
func unknownKeyMsg(t reflect.Type, section, name string) string {
	if msg := literalSecretMsg(join(section, name)); msg != "" {
		return msg
	}
	if msg := removedKeyMsg(join(section, name)); msg != "" {
		return msg
	}
	msg := fmt.Sprintf("unknown key %q", name)
	var names []string
	for _, f := range reflect.VisibleFields(t) {
		if n := yamlName(f); n != "" {
			names = append(names, n)
		}
	}
	if best := closest(name, names); best != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", best)
	}
	for _, path := range schemaPaths(reflect.TypeFor[Config](), "") {
		if path != join(section, name) && (path == name || strings.HasSuffix(path, "."+name)) {
			return msg + fmt.Sprintf(" (did you mean %q?)", path)
		}
	}
	return msg
}

// literalSecretMsg refuses credentials written into the file itself (they would end up in
// backups, diffs and bug reports) and explains keys people carry over from older layouts.
func literalSecretMsg(key string) string {
	switch key {
	case "mongod.password", "mongod.pass", "mongod.passwd":
		return "a literal password is not accepted; put it in a file named by mongod.password_file " +
			"or an environment variable named by mongod.password_env"
	case "http.admin_token", "http.token":
		return "a literal token is not accepted; use http.admin_token_file or http.admin_token_env"
	case "gossip.keyring", "gossip.key", "gossip.secret_key":
		return "literal gossip keys are not accepted; put them in a file named by gossip.keyring_file"
	case "zone":
		return `unknown key "zone": this sidecar's zone is the zone of its entry in members`
	}
	return ""
}

// schemaPaths lists every key path of the schema (list elements without index).
func schemaPaths(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == durationType {
		return nil
	}
	var out []string
	for _, f := range reflect.VisibleFields(t) {
		n := yamlName(f)
		if n == "" {
			continue
		}
		p := join(prefix, n)
		out = append(out, p)
		out = append(out, schemaPaths(f.Type, p)...)
	}
	return out
}

// closest returns the candidate nearest to s, if it is near enough to be a plausible typo.
func closest(s string, candidates []string) string {
	if len(s) > 64 {
		return ""
	}
	best, bestDist := "", len(s)+1
	for _, c := range candidates {
		if c == "" {
			continue
		}
		d := levenshtein(strings.ToLower(s), strings.ToLower(c))
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(2, len(s)/3)
	if bestDist <= limit {
		return best
	}
	// A truncated or extended name: "anti_flap" for "anti_flap_window".
	for _, c := range candidates {
		if c != "" && len(s) >= 4 && (strings.HasPrefix(c, s) || strings.HasPrefix(s, c)) {
			return c
		}
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
