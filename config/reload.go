package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Reloadable reports whether a key may change on SIGHUP: the probe and failover policy and the
// log level. Everything else (identity, mongod, gossip, members, HTTP, audit log, secrets) is
// wired into running components and needs a restart.
func Reloadable(key string) bool {
	return key == "probe" || strings.HasPrefix(key, "probe.") ||
		key == "failover" || strings.HasPrefix(key, "failover.") ||
		key == "log.level"
}

// ReloadPolicy loads path as the new configuration of a running sidecar whose configuration is
// old. It returns a new Config that is old with the reloadable sections of the file, and the
// keys whose values changed. When the file is invalid or changes anything else, it returns old
// itself, no keys and an Errors naming every offending key, such as
//
//	node.yaml:1:1: id: cannot change on reload; restart the sidecar
//
// Secrets are not re-read into the running config: a rotated password or key needs a restart.
func ReloadPolicy(old *Config, path string) (*Config, []string, error) {
	return reloadPolicy(old, path, osSystem{})
}

func reloadPolicy(old *Config, path string, sys system) (*Config, []string, error) {
	next, err := load(path, sys)
	if err != nil {
		return old, nil, err
	}
	return old.ApplyPolicy(next)
}

// ApplyPolicy is ReloadPolicy on an already loaded next configuration.
func (c *Config) ApplyPolicy(next *Config) (*Config, []string, error) {
	p := &problems{file: next.File(), pos: next.positions()}
	var changed []string
	for _, key := range diff(reflect.ValueOf(*c), reflect.ValueOf(*next), "") {
		if Reloadable(key) {
			changed = append(changed, key)
			continue
		}
		p.at(key, "cannot change on reload; restart the sidecar")
	}
	if err := p.result(); err != nil {
		return c, nil, err
	}
	out := *c
	out.Probe = next.Probe
	out.Failover = next.Failover
	out.Failover.Candidates.PreferZones = append([]string{}, next.Failover.Candidates.PreferZones...)
	out.Failover.Candidates.AvoidZones = append([]string{}, next.Failover.Candidates.AvoidZones...)
	out.Failover.Candidates.RequireTags = make(map[string]string, len(next.Failover.Candidates.RequireTags))
	for k, v := range next.Failover.Candidates.RequireTags {
		out.Failover.Candidates.RequireTags[k] = v
	}
	out.Log.Level = next.Log.Level
	return &out, changed, nil
}

// diff lists the keys (yaml paths) whose values differ between a and b: structs field by field,
// equally long lists element by element, anything else as a whole. Unexported fields and
// fields not in the file (secrets) are skipped.
func diff(a, b reflect.Value, key string) []string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return []string{key}
			}
			return nil
		}
		return diff(a.Elem(), b.Elem(), key)
	case reflect.Struct:
		if a.Type() == reflect.TypeFor[Secret]() {
			return nil
		}
		var out []string
		for i := range a.NumField() {
			if name := yamlName(a.Type().Field(i)); name != "" {
				out = append(out, diff(a.Field(i), b.Field(i), join(key, name))...)
			}
		}
		return out
	case reflect.Slice:
		if a.Len() == b.Len() && a.Type().Elem().Kind() == reflect.Struct {
			var out []string
			for i := range a.Len() {
				out = append(out, diff(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", key, i))...)
			}
			return out
		}
		if a.Len() == 0 && b.Len() == 0 {
			return nil
		}
	case reflect.Map:
		if a.Len() == 0 && b.Len() == 0 {
			return nil
		}
	}
	if reflect.DeepEqual(a.Interface(), b.Interface()) {
		return nil
	}
	return []string{key}
}
