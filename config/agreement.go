package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Agreement is the part of a configuration every sidecar of a set must share, reduced to digests
// that sidecars gossip (topology.MemberView.Cfg) and compare: a sidecar that sees a peer with
// another Sum is not ready, naming the peer and the keys whose digests differ.
//
// Which keys must agree. The coordinator is simply the lowest visible id, so the set's behaviour
// must not depend on which sidecar coordinates, and every sidecar must count the same quorum:
//
//   - replica_set and members (ids, modes, gossip addresses, mongod hosts, zones): the quorum's
//     denominator, the coordinator order, which sidecar runs which action, the zones candidates
//     are ranked by. Two lists that differ can each see "a majority".
//   - every failover.* key and the probe.* thresholds that are inputs of the election core's
//     rules (election.Policy, topology.Snapshot.MaxAge): failures_before_unreachable,
//     sick_write_latency, sick_after, view_max_age. enabled and dry_run are included: a set
//     that fails over or not depending on which sidecar coordinates is worse than either.
//
// Per-sidecar keys never agree: identity (id, mode: the own entry in members already agrees),
// state_dir, audit_log, the mongod section (how this sidecar reaches its own mongod, its
// credentials and TLS), the gossip listener and its timing profile, http, log, and the probe keys
// that only shape what one sidecar observes (interval, timeout, write probe cadence, deadline and
// namespace): observations travel as evidence (reachability, latencies, failure counts) that
// the agreed thresholds then judge, and a distant sidecar may legitimately need longer timeouts.
// Secrets are never part of it.
//
// Digests are of a canonical JSON encoding: members sorted by id, zone lists sorted (they are
// sets, see election/rank.go), nil lists and maps as empty ones, durations in nanoseconds. A
// release that changes how a key is encoded must rename the key. Keys only one side knows (a
// peer on an older or newer rsguard during a rolling upgrade) are not compared.
type Agreement struct {
	// Sum is the overall fingerprint: the first 16 hex digits of the sha256 of every agreed key
	// and its canonical value, one "key=value" line each, in key order.
	Sum string
	// Keys holds each agreed key's digest: the first 8 hex digits of the sha256 of its value.
	Keys map[string]string

	values map[string]string // canonical JSON, for messages; never gossiped
}

// Class says whether a key must be the same in every sidecar's file.
type Class int

// The classes of configuration keys.
const (
	Unclassified Class = iota
	// PerSidecar keys legitimately differ between sidecars.
	PerSidecar
	// Agreed keys must be the same in every sidecar's file.
	Agreed
)

// keyRule classifies one key, and with it every key below it.
type keyRule struct {
	class Class
	why   string
}

// agreementRules classifies every configuration key. Failover and probe keys are listed one by
// one (TestEveryKeyIsClassified): a new knob must be classified before it builds green.
func agreementRules() map[string]keyRule {
	local := func(why string) keyRule { return keyRule{PerSidecar, why} }
	agreed := func(why string) keyRule { return keyRule{Agreed, why} }
	return map[string]keyRule{
		"id":          local("this sidecar's identity"),
		"mode":        local("this sidecar's mode; its members entry agrees"),
		"replica_set": agreed("the set every sidecar watches; also the gossip label"),
		"state_dir":   local("a local directory"),
		"audit_log":   local("a local file"),
		"mongod":      local("how this sidecar reaches its own mongod: URI, credentials, TLS"),
		"credentials": local("how an arbiter sidecar reaches the members, if at all"),
		"process":     local("who starts this sidecar's own mongod"),
		"recovery":    local("this sidecar's own dbpath and archive"),
		"members":     agreed("the quorum's denominator, coordinator order, executors and zones"),
		"http":        local("this sidecar's own listener and admin token"),
		"log":         local("this process's logging"),

		"notifications": local("whom this sidecar tells; receivers deduplicate by event id"),
		"hooks":         local("scripts on this sidecar's host (a VIP or DNS move is local to it)"),

		"gossip.bind":         local("this sidecar's listener"),
		"gossip.advertise":    local("this sidecar's address; its members entry agrees"),
		"gossip.seeds":        local("whom this sidecar asks first; any member will do"),
		"gossip.keyring_file": local("a local path; the keys themselves must match for gossip to work at all"),
		"gossip.profile":      local("failure-detector timing for this sidecar's network"),
		"gossip.settle":       local("how long this sidecar waits before its first verdict"),
		"gossip.insecure":     local("an insecure sidecar cannot talk to keyed ones at all (views without a MAC are dropped)"),

		"probe.interval":                    local("how often this sidecar looks; verdicts use the agreed thresholds"),
		"probe.timeout":                     local("a per-observer deadline; a distant sidecar may need more"),
		"probe.failures_before_unreachable": agreed("election.Policy.ProbeFailures: when a sidecar is a witness"),
		"probe.unreachable_after":           agreed("how long a silence lasts before a sidecar is a witness of it"),
		"probe.write_probe_interval":        local("how often this sidecar probes writes"),
		"probe.write_probe_timeout":         local("a per-observer deadline; slowness is judged by sick_write_latency"),
		"probe.write_probe_namespace":       local("where this sidecar writes its probe documents"),
		"probe.sick_write_latency":          agreed("election.Policy.ProbeSlow: what counts as a slow write"),
		"probe.sick_after":                  agreed("election.Policy.SickAfter: how long before a primary is sick"),
		"probe.view_max_age":                agreed("topology.Snapshot.MaxAge: which views count towards quorum"),

		"failover.enabled":                 agreed("whether the set fails over must not depend on the coordinator"),
		"failover.dry_run":                 agreed("whether the set acts must not depend on the coordinator"),
		"failover.anti_flap_window":        agreed("the block on a second failover, shared by every sidecar"),
		"failover.step_down_sick_primary":  agreed("whether a sick primary is replaced"),
		"failover.abort_catch_up":          agreed("whether catch-up may be ended"),
		"failover.fence_old_primary":       agreed("whether a lingering primary is fenced"),
		"failover.fence_after":             agreed("when a lingering primary is fenced"),
		"failover.election_quiet":          agreed("how long after a new term every sidecar holds back"),
		"failover.candidates.max_lag":      agreed("which secondaries may be stepped up"),
		"failover.candidates.min_priority": agreed("which secondaries may be stepped up"),
		"failover.candidates.prefer_zones": agreed("candidate ranking"),
		"failover.candidates.avoid_zones":  agreed("which secondaries may be stepped up"),
		"failover.candidates.require_tags": agreed("which secondaries may be stepped up"),
	}
}

// AgreedKeys lists the keys that must agree, sorted.
func AgreedKeys() []string {
	var out []string
	for k, r := range agreementRules() {
		if r.class == Agreed {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Agreement computes the digests of c's agreed keys.
func (c *Config) Agreement() Agreement {
	rules := agreementRules()
	a := Agreement{Keys: map[string]string{}, values: map[string]string{}}
	walkKeys(reflect.ValueOf(*c), "", rules, func(key string, v reflect.Value) {
		b, err := json.Marshal(canonical(key, v))
		if err != nil {
			b = []byte(`"unencodable"`) // cannot happen for config values: plain data only
		}
		a.values[key] = string(b)
		a.Keys[key] = digest(b, 8)
	})
	keys := make([]string, 0, len(a.values))
	for k := range a.values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var all strings.Builder
	for _, k := range keys {
		all.WriteString(k + "=" + a.values[k] + "\n")
	}
	a.Sum = digest([]byte(all.String()), 16)
	return a
}

// Value is the canonical value of an agreed key, as JSON (durations in nanoseconds), for messages.
func (a Agreement) Value(key string) string { return a.values[key] }

// DriftKeys lists, sorted, the keys both digest sets hold with different digests.
func DriftKeys(mine, theirs map[string]string) []string {
	var out []string
	for k, d := range mine {
		if t, ok := theirs[k]; ok && t != d {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// walkKeys calls agreed for every agreed key of v (a Config or a part of it). Keys without a
// rule are descended into when they are structs and otherwise treated as per-sidecar.
func walkKeys(v reflect.Value, prefix string, rules map[string]keyRule, agreed func(string, reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		key, fv := join(prefix, name), v.Field(i)
		if r, ok := rules[key]; ok {
			if r.class == Agreed {
				agreed(key, fv)
			}
			continue
		}
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				continue
			}
			fv = fv.Elem()
		}
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeFor[time.Duration]() {
			walkKeys(fv, key, rules, agreed)
		}
	}
}

// canonical is the value whose JSON encoding is digested: order-free lists sorted, nil as empty.
func canonical(key string, v reflect.Value) any {
	switch key {
	case "members":
		ms := slices.Clone(v.Interface().([]Member))
		slices.SortFunc(ms, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
		if ms == nil {
			ms = []Member{}
		}
		return ms
	case "failover.candidates.prefer_zones", "failover.candidates.avoid_zones":
		zs := slices.Clone(v.Interface().([]string))
		slices.Sort(zs)
		return append([]string{}, slices.Compact(zs)...)
	}
	switch v.Kind() {
	case reflect.Slice:
		if v.IsNil() {
			return reflect.MakeSlice(v.Type(), 0, 0).Interface()
		}
	case reflect.Map:
		if v.IsNil() {
			return reflect.MakeMap(v.Type()).Interface()
		}
	}
	return v.Interface()
}

func digest(b []byte, hexDigits int) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:hexDigits]
}
