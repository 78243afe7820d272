package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// maxDataMembers is MongoDB's limit on replica set members.
const maxDataMembers = 50

// validate checks every rule that needs no I/O, recording all problems.
func validate(c *Config, p *problems) {
	k := checker{p}
	validateIdentity(k, c)
	validateMongod(k, c)
	validateGossip(k, c)
	validateGossipAuth(k, c)
	validateMembers(k, c)
	validateProbe(k, &c.Probe)
	validateFailover(k, c)
	validateHTTP(k, &c.HTTP)
	validateLog(k, &c.Log)
	validateCredentials(k, c)
	validateProcess(k, c)
	validateRecovery(k, c)
	validateNotify(k, c)
}

func validateIdentity(k checker, c *Config) {
	if k.required("id", c.ID, "this sidecar's id, as listed in members") && !isID(c.ID) {
		k.errf("id", "must be 1 to 63 lowercase letters, digits or inner hyphens, got %s", quote(c.ID))
	}
	if k.required("mode", string(c.Mode), `"data" or "arbiter"`) {
		k.enum("mode", string(c.Mode), string(ModeData), string(ModeArbiter))
	}
	if k.required("replica_set", c.ReplicaSet, "the replica set name (replSetName)") && !isName(c.ReplicaSet, 64) {
		k.errf("replica_set", "must be 1 to 64 letters, digits, '.', '_' or '-', got %s", quote(c.ReplicaSet))
	}
	k.required("state_dir", c.StateDir, "")
	k.required("audit_log", c.AuditLog, "")
}

func validateMongod(k checker, c *Config) {
	m := c.Mongod
	switch {
	case c.Mode == ModeArbiter && m != nil:
		k.errf("mongod", "must be absent in mode arbiter: an arbiter sidecar has no local mongod")
		return
	case c.Mode == ModeData && m == nil:
		k.errf("mongod", "section is required in mode data: it says how to reach the local mongod")
		return
	case m == nil:
		return
	}
	validateURI(k, m)
	k.durRange("mongod.connect_timeout", m.ConnectTimeout, 100*time.Millisecond, time.Minute)
	k.required("mongod.auth_source", m.AuthSource, "")
	k.enum("mongod.auth_mechanism", string(m.AuthMechanism), string(AuthDefault),
		string(AuthSCRAMSHA1), string(AuthSCRAMSHA256), string(AuthX509))

	hasPass := m.PasswordFile != "" || m.PasswordEnv != ""
	if m.PasswordFile != "" && m.PasswordEnv != "" {
		k.errf("mongod.password_env", "set either password_file or password_env, not both")
	}
	if m.PasswordEnv != "" && !isEnvName(m.PasswordEnv) {
		k.errf("mongod.password_env", "must be an environment variable name such as RSGUARD_MONGO_PASSWORD, got %s", quote(m.PasswordEnv))
	}
	switch {
	case m.AuthMechanism == AuthX509:
		if hasPass {
			k.errf("mongod.auth_mechanism", "MONGODB-X509 authenticates with the client certificate; remove password_file/password_env")
		}
		if m.TLS == nil || m.TLS.CertificateKeyFile == "" {
			k.errf("mongod.auth_mechanism", "MONGODB-X509 needs mongod.tls.certificate_key_file")
		}
	case m.Username != "" && !hasPass:
		k.errf("mongod.username", "missing credentials: username %s is set but neither mongod.password_file nor mongod.password_env is", quote(m.Username))
	case m.Username == "" && hasPass:
		k.errf("mongod.username", "is required when a password is configured")
	}
}

// validateURI accepts a single-host mongodb:// URI without credentials: the sidecar talks to
// its own mongod only (directConnection), and credentials belong in password_file/_env. The
// URI is never echoed, in case it holds a password after all.
func validateURI(k checker, m *Mongod) {
	const key = "mongod.uri"
	if !k.required(key, m.URI, `such as "mongodb://127.0.0.1:27017/?directConnection=true"`) {
		return
	}
	u, err := url.Parse(m.URI)
	switch {
	case err != nil:
		k.errf(key, "is not a valid URI")
		return
	case u.Scheme == "mongodb+srv":
		k.errf(key, "mongodb+srv is not supported: the sidecar connects to its local mongod only; use mongodb://host:port")
		return
	case u.Scheme != "mongodb":
		k.errf(key, `must start with "mongodb://"`)
		return
	case u.User != nil:
		k.errf(key, "must not contain credentials; use mongod.username with mongod.password_file or mongod.password_env")
	}
	if strings.Contains(u.Host, ",") {
		k.errf(key, "must name exactly one host: the sidecar connects to its local mongod only")
	} else if host := u.Host; host == "" {
		k.errf(key, "host is missing")
	} else {
		if u.Port() == "" {
			host += ":27017"
		}
		k.addr(key, host, addrRules{})
	}
	q := u.Query()
	if q.Has("replicaSet") {
		k.errf(key, "must not set replicaSet: the sidecar needs a direct connection to its own mongod")
	}
	if strings.EqualFold(q.Get("directConnection"), "false") {
		k.errf(key, "must not set directConnection=false: the sidecar needs a direct connection to its own mongod")
	}
	if m.TLS != nil {
		for name := range q {
			if l := strings.ToLower(name); strings.HasPrefix(l, "tls") || strings.HasPrefix(l, "ssl") {
				k.errf(key, "sets %s while the mongod.tls section is present; configure TLS in one place", name)
			}
		}
	}
	if m.Username != "" && q.Has("authSource") {
		k.errf(key, "sets authSource; use mongod.auth_source instead")
	}
}

func validateGossip(k checker, c *Config) {
	g := &c.Gossip
	if k.required("gossip.bind", g.Bind, `the address memberlist listens on, such as "10.0.0.5:7946"`) {
		k.addr("gossip.bind", g.Bind, addrRules{unspecified: true})
	}
	if g.Advertise != "" {
		if g.Advertise == g.Bind && isUnspecifiedHost(g.Bind) {
			k.errf("gossip.advertise", "is required when gossip.bind listens on every address: peers need an address they can dial")
		} else {
			k.addr("gossip.advertise", g.Advertise, addrRules{})
		}
	}
	k.enum("gossip.profile", string(g.Profile), string(ProfileLAN), string(ProfileWAN), string(ProfileLocal))
	k.durRange("gossip.settle", g.Settle, 0, time.Minute)
	seen := map[string]int{}
	for i, s := range g.Seeds {
		key := fmt.Sprintf("gossip.seeds[%d]", i)
		if !k.addr(key, s, addrRules{}) {
			continue
		}
		if j, dup := seen[s]; dup {
			k.errf(key, "duplicates gossip.seeds[%d]", j)
		}
		seen[s] = i
	}
	if len(g.Seeds) == 0 && len(c.Members) > 1 {
		k.errf("gossip.seeds", "is empty, so this sidecar could not join its peers; omit it to use the other members' gossip addresses")
	}
}

func validateMembers(k checker, c *Config) {
	if len(c.Members) == 0 {
		k.errf("members", "must list at least one sidecar (this one included): quorum is a majority of this list")
		return
	}
	ids, gossips, mongods := map[string]int{}, map[string]int{}, map[string]int{}
	data := 0
	for i, m := range c.Members {
		key := fmt.Sprintf("members[%d]", i)
		if k.required(key+".id", m.ID, "") {
			if !isID(m.ID) {
				k.errf(key+".id", "must be 1 to 63 lowercase letters, digits or inner hyphens, got %s", quote(m.ID))
			} else if j, dup := ids[m.ID]; dup {
				k.errf(key+".id", "%s is already used by members[%d]", quote(m.ID), j)
			}
			ids[m.ID] = i
		}
		k.enum(key+".mode", string(m.Mode), string(ModeData), string(ModeArbiter))
		if k.required(key+".gossip", m.Gossip, "the member's gossip advertise address") && k.addr(key+".gossip", m.Gossip, addrRules{}) {
			if j, dup := gossips[m.Gossip]; dup {
				k.errf(key+".gossip", "%s is already used by members[%d]", quote(m.Gossip), j)
			}
			gossips[m.Gossip] = i
		}
		switch m.Mode {
		case ModeData:
			data++
			if k.required(key+".mongod", m.Mongod, "the host:port of the member's mongod as the replica set knows it") &&
				k.addr(key+".mongod", m.Mongod, addrRules{}) {
				if j, dup := mongods[m.Mongod]; dup {
					k.errf(key+".mongod", "%s is already used by members[%d]", quote(m.Mongod), j)
				}
				mongods[m.Mongod] = i
			}
		case ModeArbiter:
			if m.Mongod != "" {
				k.errf(key+".mongod", "must be absent for an arbiter sidecar, which has no mongod")
			}
		}
		if m.Zone != "" && !isName(m.Zone, 63) {
			k.errf(key+".zone", "must be 1 to 63 letters, digits, '.', '_' or '-', got %s", quote(m.Zone))
		}
	}
	if data == 0 {
		k.errf("members", "must include at least one member in mode data")
	}
	if data > maxDataMembers {
		k.errf("members", "lists %d data members; a replica set has at most %d", data, maxDataMembers)
	}
	validateSelf(k, c, ids)
}

// validateSelf ties this sidecar to its members entry, so that what it gossips matches what
// its peers expect.
func validateSelf(k checker, c *Config, ids map[string]int) {
	if c.ID == "" {
		return
	}
	i, ok := ids[c.ID]
	if !ok {
		known := make([]string, 0, len(ids))
		for id := range ids {
			known = append(known, id)
		}
		slices.Sort(known)
		k.errf("id", "%s is not in members (ids: %s): list every sidecar, this one included", quote(c.ID), strings.Join(known, ", "))
		return
	}
	m := c.Members[i]
	key := fmt.Sprintf("members[%d]", i)
	if c.Mode.Valid() && m.Mode.Valid() && m.Mode != c.Mode {
		k.errf(key+".mode", "is %q but this sidecar's mode is %q", m.Mode, c.Mode)
	}
	adv := c.Gossip.Advertise
	if adv != "" && !isUnspecifiedHost(adv) && m.Gossip != "" && m.Gossip != adv {
		k.errf(key+".gossip", "is %s but this sidecar advertises %s (gossip.advertise, or gossip.bind when unset)",
			quote(m.Gossip), quote(c.Gossip.Advertise))
	}
}
