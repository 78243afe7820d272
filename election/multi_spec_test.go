package election_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// A sidecar's view in a multi-sidecar script is declarative: sections of key=value fields named
// like MemberView's JSON, materialized at every observation so that "now" follows the clock.

// viewSpec holds a sidecar's view as sections of key=value fields; peers by host.
type viewSpec struct {
	top, local, probe, jprobe, primary map[string]string
	peers                              map[string]map[string]string
}

func newSpec() viewSpec {
	return viewSpec{top: map[string]string{}, local: map[string]string{}, probe: map[string]string{},
		jprobe: map[string]string{}, primary: map[string]string{}, peers: map[string]map[string]string{}}
}

func (s viewSpec) clone() viewSpec {
	c := newSpec()
	maps.Copy(c.top, s.top)
	maps.Copy(c.local, s.local)
	maps.Copy(c.probe, s.probe)
	maps.Copy(c.jprobe, s.jprobe)
	maps.Copy(c.primary, s.primary)
	for h, p := range s.peers {
		c.peers[h] = maps.Clone(p)
	}
	return c
}

// apply merges one line ("local state=PRIMARY ok", "peer h1 ok=false", "-peer h1", "-probe")
// into the spec. Values "@now" and "@now-2s" are pinned to the current time here; "now" and
// "now-2s" stay live and follow the clock at every observation.
func (s *viewSpec) apply(line string, now time.Time) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	sec, rest := f[0], f[1:]
	var dst map[string]string
	switch sec {
	case "local":
		dst = s.local
	case "probe":
		dst = s.probe
	case "jprobe": // the w:1 j:true probe: evidence local to the primary (election/sick.go)
		dst = s.jprobe
	case "primary":
		dst = s.primary
	case "view":
		dst = s.top
	case "peer":
		if len(rest) == 0 {
			return fmt.Errorf("peer needs a host: %q", line)
		}
		if s.peers[rest[0]] == nil {
			s.peers[rest[0]] = map[string]string{}
		}
		dst, rest = s.peers[rest[0]], rest[1:]
	case "-probe":
		clear(s.probe)
		return nil
	case "-jprobe":
		clear(s.jprobe)
		return nil
	case "-primary":
		clear(s.primary)
		return nil
	case "-peer":
		for _, h := range rest {
			delete(s.peers, h)
		}
		return nil
	default:
		return fmt.Errorf("unknown section %q in %q (local, probe, jprobe, primary, peer HOST, view, -probe, -jprobe, -primary, -peer HOST)", sec, line)
	}
	for _, kv := range rest {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			v = "true"
		}
		if strings.HasPrefix(v, "@now") {
			t, err := parseTime(v[1:], now)
			if err != nil {
				return err
			}
			v = "T" + rel(t)
		}
		dst[k] = v
	}
	return nil
}

var (
	timeKeys  = []string{"term_since", "last_write", "frozen_until", "last_ok", "out_since", "failing_since", "hb", "hb_recv"}
	durKeys   = []string{"lat"}
	boolKeys  = []string{"ok", "hb_ok", "cand", "catchup", "hidden", "slow_writes", "out", "not_ready"}
	intKeys   = []string{"term", "cfg_v", "cfg_t", "votes", "fails", "ping", "eid_term"}
	floatKeys = []string{"prio"}
)

// parseTime reads "now", "now-2s", "now+1s" (relative to now) and "T+5s" (relative to the epoch).
func parseTime(v string, now time.Time) (time.Time, error) {
	base, off := now, ""
	switch {
	case strings.HasPrefix(v, "now"):
		off = v[3:]
	case strings.HasPrefix(v, "T"):
		base, off = epoch, v[1:]
	default:
		return time.Time{}, fmt.Errorf("time %q: want now, now-2s, @now-2s or T+5s", v)
	}
	if off == "" {
		return base, nil
	}
	d, err := time.ParseDuration(strings.TrimPrefix(off, "+"))
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", v, err)
	}
	return base.Add(d), nil
}

// value converts one field to its JSON form by its key's type.
func value(k, v string, now time.Time) (any, error) {
	switch {
	case slices.Contains(timeKeys, k):
		return parseTime(v, now)
	case slices.Contains(durKeys, k):
		d, err := time.ParseDuration(v)
		return int64(d), err
	case slices.Contains(boolKeys, k):
		return strconv.ParseBool(v)
	case slices.Contains(intKeys, k):
		return strconv.ParseInt(v, 10, 64)
	case slices.Contains(floatKeys, k):
		return strconv.ParseFloat(v, 64)
	case k == "optime":
		// TERM/SECS or TERM/SECS.INC
		t, rest, ok := strings.Cut(v, "/")
		secs, inc, _ := strings.Cut(rest, ".")
		term, err1 := strconv.ParseInt(t, 10, 64)
		s, err2 := strconv.ParseUint(secs, 10, 32)
		i := uint64(0)
		var err3 error
		if inc != "" {
			i, err3 = strconv.ParseUint(inc, 10, 32)
		}
		if !ok || err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("optime %q: want TERM/SECS[.INC]", v)
		}
		return topology.MakeOpTime(uint32(s), uint32(i), term), nil
	}
	return v, nil
}

func section(fields map[string]string, now time.Time) (map[string]any, error) {
	m := map[string]any{}
	for k, v := range fields {
		x, err := value(k, v, now)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", k, v, err)
		}
		m[k] = x
	}
	return m, nil
}

// materialize builds the MemberView at now through its JSON form, so unknown keys are errors
// and the field names are the gossiped ones. A data sidecar's local host, priority and votes
// default to its configured host, 1 and 1.
func (s viewSpec) materialize(cfg topology.SidecarConfig, now time.Time) (topology.MemberView, error) {
	doc, err := section(s.top, now)
	if err != nil {
		return topology.MemberView{}, err
	}
	doc["id"], doc["mode"], doc["at"] = cfg.ID, cfg.Mode, now
	if cfg.Zone != "" {
		doc["zone"] = cfg.Zone
	}
	if cfg.Mode == topology.ModeData {
		l, err := section(s.local, now)
		if err != nil {
			return topology.MemberView{}, err
		}
		for k, v := range map[string]any{"host": cfg.Host, "prio": 1.0, "votes": 1} {
			if _, ok := l[k]; !ok {
				l[k] = v
			}
		}
		doc["local"] = l
	}
	for name, fields := range map[string]map[string]string{"probe": s.probe, "jprobe": s.jprobe, "primary": s.primary} {
		if len(fields) > 0 {
			if doc[name], err = section(fields, now); err != nil {
				return topology.MemberView{}, err
			}
		}
	}
	var peers []map[string]any
	for _, h := range slices.Sorted(maps.Keys(s.peers)) {
		p, err := section(s.peers[h], now)
		if err != nil {
			return topology.MemberView{}, fmt.Errorf("peer %s: %w", h, err)
		}
		p["host"] = h
		peers = append(peers, p)
	}
	doc["peers"] = peers
	b, err := json.Marshal(doc)
	if err != nil {
		return topology.MemberView{}, err
	}
	var v topology.MemberView
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return topology.MemberView{}, err
	}
	return v, nil
}
