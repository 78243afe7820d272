package config

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// CrossCheck checks loaded configurations of one set against each other, as
// `supervisor validate-config a.yaml b.yaml ...` does after loading each: distinct ids, each id in
// the members list, the same members list and the same agreed keys (Agreement) in every file,
// and in each data sidecar's file a mongod.uri that reaches the mongod its members entry names.
// The first file is the reference others are compared with. It returns nil or an Errors, each
// naming the file, the key (at its position) and both values, such as
//
//	b.yaml:14:3: failover.anti_flap_window: is 10m here but 5m in a.yaml; every sidecar of the set must agree
//
// A single file gets the mongod.uri check only.
func CrossCheck(cfgs []*Config) error {
	var all Errors
	var ref *Config
	var refAgree Agreement
	ids := map[string]string{} // id -> file
	for i, c := range cfgs {
		p := &problems{file: c.File(), pos: c.positions()}
		checkLocalMongod(p, c)
		if i == 0 {
			ref, refAgree = c, c.Agreement()
		} else {
			if f, dup := ids[c.ID]; dup {
				p.at("id", fmt.Sprintf("%s is also the id in %s: every sidecar needs its own id", quote(c.ID), f))
			}
			if !hasMember(ref.Members, c.ID) {
				p.at("id", fmt.Sprintf("%s is not in the members of %s", quote(c.ID), ref.File()))
			}
			compareMembers(p, c, ref)
			for _, key := range DriftKeys(refAgree.Keys, c.Agreement().Keys) {
				if key == "members" {
					continue // compareMembers names the entries
				}
				p.at(key, fmt.Sprintf("is %s here but %s in %s; every sidecar of the set must agree",
					displayValue(c, key), displayValue(ref, key), ref.File()))
			}
		}
		if _, dup := ids[c.ID]; !dup {
			ids[c.ID] = c.File()
		}
		if err := p.result(); err != nil {
			all = append(all, err.(Errors)...)
		}
	}
	if len(all) == 0 {
		return nil
	}
	return all
}

func hasMember(ms []Member, id string) bool {
	for _, m := range ms {
		if m.ID == id {
			return true
		}
	}
	return false
}

// compareMembers names every entry of c's members that differs from ref's, matched by id.
func compareMembers(p *problems, c, ref *Config) {
	byID := map[string]Member{}
	for _, m := range ref.Members {
		byID[m.ID] = m
	}
	for i, m := range c.Members {
		key := fmt.Sprintf("members[%d]", i)
		r, ok := byID[m.ID]
		if !ok {
			p.at(key+".id", fmt.Sprintf("%s is not in the members of %s", quote(m.ID), ref.File()))
			continue
		}
		delete(byID, m.ID)
		for _, f := range []struct{ name, here, there string }{
			{"mode", string(m.Mode), string(r.Mode)}, {"gossip", m.Gossip, r.Gossip},
			{"mongod", m.Mongod, r.Mongod}, {"zone", m.Zone, r.Zone},
		} {
			if f.here != f.there {
				p.at(key+"."+f.name, fmt.Sprintf("is %s here but %s for %s in %s", quote(f.here), quote(f.there), m.ID, ref.File()))
			}
		}
	}
	for _, r := range ref.Members {
		if _, missing := byID[r.ID]; missing {
			p.at("members", fmt.Sprintf("has no entry for %s, which %s lists", quote(r.ID), ref.File()))
		}
	}
}

// checkLocalMongod: a data sidecar's mongod.uri must reach the mongod its members entry names
// (the host the replica set knows, which peers probe and step up), either by the same host:port
// or by a loopback address with the same port when the set names non-loopback hosts.
func checkLocalMongod(p *problems, c *Config) {
	if c.Mode != ModeData || c.Mongod == nil {
		return
	}
	want := c.Self().Mongod
	u, err := url.Parse(c.Mongod.URI)
	if want == "" || err != nil || u.Host == "" || strings.Contains(u.Host, ",") {
		return // single-file validation reports these
	}
	host := u.Host
	if u.Port() == "" {
		host += ":27017"
	}
	// A loopback URI reaches the local mongod under another name, unless the set itself names
	// loopback addresses (a lab on 127.0.0.N, where each address is another host).
	wantHost, _, _ := net.SplitHostPort(want)
	if host == want || isLoopback(u.Hostname()) && !isLoopback(wantHost) && sameport(host, want) {
		return
	}
	p.at("mongod.uri", fmt.Sprintf("names %s but this sidecar's members entry says its mongod is %s; "+
		"name the same host:port", quote(host), quote(want)))
}

func isLoopback(h string) bool {
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

func sameport(a, b string) bool {
	_, pa, err1 := net.SplitHostPort(a)
	_, pb, err2 := net.SplitHostPort(b)
	return err1 == nil && err2 == nil && pa == pb
}

// displayValue renders an agreed key's value the way it is written in a file.
func displayValue(c *Config, key string) string {
	out := "(unset)"
	walkKeys(reflect.ValueOf(*c), "", agreementRules(), func(k string, v reflect.Value) {
		if k != key {
			return
		}
		switch x := v.Interface().(type) {
		case time.Duration:
			out = fmtDur(x)
		case string:
			out = quote(x)
		default:
			b, _ := json.Marshal(canonical(k, v))
			out = string(b)
		}
	})
	return out
}
