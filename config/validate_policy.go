package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

func validateProbe(k checker, p *Probe) {
	interval := k.durRange("probe.interval", p.Interval, 100*time.Millisecond, time.Minute)
	if k.durRange("probe.timeout", p.Timeout, 10*time.Millisecond, time.Minute) && interval && p.Timeout >= p.Interval {
		k.errf("probe.timeout", "must be less than probe.interval (%s), got %q: probes would overlap", fmtDur(p.Interval), fmtDur(p.Timeout))
	}
	k.intRange("probe.failures_before_unreachable", p.FailuresBeforeUnreachable, 1, 100)
	k.durRange("probe.unreachable_after", p.UnreachableAfter, 0, 10*time.Minute)
	writeInterval := k.durRange("probe.write_probe_interval", p.WriteProbeInterval, 100*time.Millisecond, time.Minute)
	writeTimeout := k.durRange("probe.write_probe_timeout", p.WriteProbeTimeout, 100*time.Millisecond, 5*time.Minute)
	if k.durRange("probe.sick_write_latency", p.SickWriteLatency, 10*time.Millisecond, 5*time.Minute) &&
		writeTimeout && p.SickWriteLatency >= p.WriteProbeTimeout {
		k.errf("probe.sick_write_latency", "must be less than probe.write_probe_timeout (%s), got %q: a probe would time out before it could count as slow",
			fmtDur(p.WriteProbeTimeout), fmtDur(p.SickWriteLatency))
	}
	if k.durRange("probe.sick_after", p.SickAfter, time.Second, time.Hour) && writeInterval && p.SickAfter < p.WriteProbeInterval {
		k.errf("probe.sick_after", "must be at least probe.write_probe_interval (%s), got %q: sickness must outlast one probe",
			fmtDur(p.WriteProbeInterval), fmtDur(p.SickAfter))
	}
	if k.durRange("probe.view_max_age", p.ViewMaxAge, 200*time.Millisecond, 10*time.Minute) && interval && p.ViewMaxAge < 2*p.Interval {
		k.errf("probe.view_max_age", "must be at least twice probe.interval (%s), got %q: fresh views would be discarded",
			fmtDur(2*p.Interval), fmtDur(p.ViewMaxAge))
	}
	validateNamespace(k, "probe.write_probe_namespace", p.WriteProbeNamespace)
}

// validateNamespace checks a "database.collection" name as mongod would accept it.
func validateNamespace(k checker, key, ns string) {
	db, coll, ok := strings.Cut(ns, ".")
	switch {
	case !ok || db == "" || coll == "":
		k.errf(key, `must be "database.collection", got %s`, quote(ns))
	case strings.ContainsAny(db, "/\\. \"$*<>:|?") || len(db) > 63:
		k.errf(key, "database name %s is not valid in MongoDB", quote(db))
	case strings.Contains(coll, "$") || strings.HasPrefix(coll, "system."):
		k.errf(key, "collection name %s is not valid for a write probe", quote(coll))
	case db == "local" || db == "config":
		k.errf(key, "must not be in the %q database: writes there are not replicated like client writes", db)
	}
}

func validateFailover(k checker, c *Config) {
	f := &c.Failover
	k.durRange("failover.anti_flap_window", f.AntiFlapWindow, time.Second, 24*time.Hour)
	k.durRange("failover.fence_after", f.FenceAfter, time.Second, 10*time.Minute)
	// Below one election timeout (10 s, spec §5.2) rsguard could race an election MongoDB has
	// just begun; the upper bound keeps a failover from waiting on a forgotten setting.
	k.durRange("failover.election_quiet", f.ElectionQuiet, time.Second, 5*time.Minute)
	cand := &f.Candidates
	k.durRange("failover.candidates.max_lag", cand.MaxLag, 0, time.Hour)
	if cand.MinPriority < 0 || cand.MinPriority > 1000 {
		k.errf("failover.candidates.min_priority", "must be from 0 to 1000 (MongoDB's priority range), got %g", cand.MinPriority)
	}
	zones := map[string]bool{}
	for _, m := range c.Members {
		if m.Zone != "" {
			zones[m.Zone] = true
		}
	}
	known := slices.Sorted(maps.Keys(zones))
	checkZones := func(key string, list []string) map[string]bool {
		set := map[string]bool{}
		for i, z := range list {
			zk := fmt.Sprintf("%s[%d]", key, i)
			switch {
			case !zones[z]:
				msg := fmt.Sprintf("zone %s is not the zone of any member", quote(z))
				if best := closest(z, known); best != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", best)
				} else if len(known) == 0 {
					msg += "; set members[].zone"
				}
				k.errf(zk, "%s", msg)
			case set[z]:
				k.errf(zk, "zone %s is listed twice", quote(z))
			}
			set[z] = true
		}
		return set
	}
	prefer := checkZones("failover.candidates.prefer_zones", cand.PreferZones)
	checkZones("failover.candidates.avoid_zones", cand.AvoidZones)
	for i, z := range cand.AvoidZones {
		if prefer[z] && zones[z] {
			k.errf(fmt.Sprintf("failover.candidates.avoid_zones[%d]", i), "zone %s is also in prefer_zones", quote(z))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cand.RequireTags)) {
		if !isName(name, 64) {
			k.errf("failover.candidates.require_tags."+name, "tag name must be 1 to 64 letters, digits, '.', '_' or '-'")
		}
	}
}

func validateHTTP(k checker, h *HTTP) {
	if k.required("http.listen", h.Listen, `such as "127.0.0.1:9216"`) {
		k.addr("http.listen", h.Listen, addrRules{emptyHost: true, unspecified: true, portZero: true})
	}
	if t := h.TLS; t != nil {
		if t.CertFile == "" || t.KeyFile == "" {
			k.errf("http.tls", "needs both cert_file and key_file")
		}
	}
	if h.AdminTokenFile != "" && h.AdminTokenEnv != "" {
		k.errf("http.admin_token_env", "set either admin_token_file or admin_token_env, not both")
	}
	if h.AdminTokenEnv != "" && !isEnvName(h.AdminTokenEnv) {
		k.errf("http.admin_token_env", "must be an environment variable name such as RSGUARD_ADMIN_TOKEN, got %s", quote(h.AdminTokenEnv))
	}
	if h.ReadTokenFile != "" && h.ReadTokenEnv != "" {
		k.errf("http.read_token_env", "set either read_token_file or read_token_env, not both")
	}
	if h.ReadTokenEnv != "" && !isEnvName(h.ReadTokenEnv) {
		k.errf("http.read_token_env", "must be an environment variable name such as RSGUARD_READ_TOKEN, got %s", quote(h.ReadTokenEnv))
	}

}

func validateLog(k checker, l *Log) {
	k.enum("log.level", string(l.Level), string(LogDebug), string(LogInfo), string(LogWarn), string(LogError))
	k.enum("log.format", string(l.Format), string(LogJSON), string(LogText))
}
