package config

import (
	"log/slog"
	"time"
)

// Mode says whether a sidecar runs beside a mongod ("data") or alone ("arbiter").
type Mode string

const (
	// ModeData is a sidecar beside a data-bearing mongod it probes and may fence.
	ModeData Mode = "data"
	// ModeArbiter is a sidecar without a mongod: it only observes and votes in the
	// sidecar quorum, so that two data sidecars can still form a majority.
	ModeArbiter Mode = "arbiter"
)

// Valid reports whether m is one of the known modes.
func (m Mode) Valid() bool { return m == ModeData || m == ModeArbiter }

// LogLevel is the minimum level of records the sidecar logs.
type LogLevel string

// The log levels, mapping one to one onto slog's.
const (
	LogDebug LogLevel = "debug"
	LogInfo  LogLevel = "info"
	LogWarn  LogLevel = "warn"
	LogError LogLevel = "error"
)

// Slog maps the level onto slog.Level; unknown levels map to info.
func (l LogLevel) Slog() slog.Level {
	switch l {
	case LogDebug:
		return slog.LevelDebug
	case LogWarn:
		return slog.LevelWarn
	case LogError:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// LogFormat is the encoding of log records on stderr.
type LogFormat string

// The log formats: slog.JSONHandler or slog.TextHandler.
const (
	LogJSON LogFormat = "json"
	LogText LogFormat = "text"
)

// GossipProfile names the memberlist timing preset the gossip layer starts from.
type GossipProfile string

// The gossip profiles: memberlist.DefaultLANConfig, DefaultWANConfig, DefaultLocalConfig.
const (
	ProfileLAN   GossipProfile = "lan"
	ProfileWAN   GossipProfile = "wan"
	ProfileLocal GossipProfile = "local"
)

// AuthMechanism is the mongod authentication mechanism; empty lets the driver negotiate SCRAM.
type AuthMechanism string

// The supported mechanisms.
const (
	AuthDefault     AuthMechanism = ""
	AuthSCRAMSHA1   AuthMechanism = "SCRAM-SHA-1"
	AuthSCRAMSHA256 AuthMechanism = "SCRAM-SHA-256"
	AuthX509        AuthMechanism = "MONGODB-X509"
)

// Config is one sidecar's configuration: the result of Load or Parse, with defaults applied,
// relative paths resolved against the file's directory and secrets read. It is a plain value;
// treat it as immutable once loaded.
type Config struct {
	// ID is this sidecar's id: 1 to 63 lowercase letters, digits or inner hyphens. It must appear in
	// members, with the same mode.
	ID string `yaml:"id" json:"id"`
	// Mode is "data" for a sidecar beside a mongod, "arbiter" for one without: it only observes and
	// votes in the sidecar quorum.
	Mode Mode `yaml:"mode" json:"mode"`
	// ReplicaSet is the replica set name (replSetName): 1 to 64 letters, digits, '.', '_' or '-'. It
	// also labels the gossip cluster.
	ReplicaSet string `yaml:"replica_set" json:"replica_set"`
	// StateDir holds the sidecar's state: anti-flap memory, recovery steps, the rollback archive by
	// default.
	StateDir string `yaml:"state_dir" json:"state_dir"`
	// AuditLog is the JSON-lines file every decision, refusal and action is appended to. Default
	// <state_dir>/audit.jsonl.
	AuditLog string `yaml:"audit_log" json:"audit_log"`
	// Mongod says how a data sidecar reaches its local mongod: required in mode data, forbidden in
	// mode arbiter.
	Mongod *Mongod `yaml:"mongod,omitempty" json:"mongod,omitempty"`
	// Gossip is the memberlist cluster the sidecars share their views through.
	Gossip Gossip `yaml:"gossip" json:"gossip"`
	// Members is the configured sidecar membership, the same in every sidecar's file, this sidecar
	// included. A verdict needs a quorum: a strict majority of this list, arbiter sidecars included.
	// At least one data member, at most 50.
	Members []Member `yaml:"members" json:"members"`
	// Probe is how this sidecar watches its mongod (reloadable).
	Probe Probe `yaml:"probe" json:"probe"`
	// Failover is the policy for automatic actions (reloadable).
	Failover Failover `yaml:"failover" json:"failover"`
	// HTTP is the listener for /metrics, /healthz, /readyz and the /v1 API.
	HTTP HTTP `yaml:"http" json:"http"`
	// Log configures the process logger (stderr).
	Log Log `yaml:"log" json:"log"`
	// Credentials lets an arbiter sidecar log in to the members (config/member_access.go).
	Credentials *Credentials `yaml:"credentials,omitempty" json:"credentials,omitempty"`
	// Process says who starts and stops the local mongod (config/process.go).
	Process Process `yaml:"process" json:"process"`
	// Recovery is what the sidecar does for its member after a failover (config/recovery.go).
	Recovery Recovery `yaml:"recovery" json:"recovery"`
	// Notifications are the webhooks events are sent to (config/notify.go).
	Notifications Notifications `yaml:"notifications" json:"notifications"`
	// Hooks are the scripts run around failovers, resyncs and rollbacks (config/notify.go).
	Hooks Hooks `yaml:"hooks" json:"hooks"`

	src *source // where the values came from; a pointer so that %v stays readable
}

// source is the file a Config was parsed from and the position of every key in it.
type source struct {
	file string
	pos  map[string]pos // dotted key -> position of the key
}

// Mongod is how a data sidecar reaches its local mongod. Absent in arbiter mode.
type Mongod struct {
	// URI is mongodb://host[:port][/?options] naming exactly one host, without user:password@ (use
	// username with password_file or password_env), without replicaSet and without
	// directConnection=false: the sidecar talks to its own mongod only. mongodb+srv is refused. Never
	// echoed in messages.
	URI string `yaml:"uri" json:"uri"`
	// Username is the user rsguard logs in as. When set, exactly one of password_file and password_env
	// is required, unless auth_mechanism is MONGODB-X509.
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	// PasswordFile is a file holding only the password (trailing newlines dropped), read at load.
	PasswordFile string `yaml:"password_file,omitempty" json:"password_file,omitempty"`
	// PasswordEnv names an environment variable holding the password; not with password_file. A
	// literal password key is rejected.
	PasswordEnv string `yaml:"password_env,omitempty" json:"password_env,omitempty"`
	// AuthSource is the database the user is defined in.
	AuthSource string `yaml:"auth_source" json:"auth_source"`
	// AuthMechanism is empty to let the driver negotiate SCRAM, or SCRAM-SHA-1, SCRAM-SHA-256, or
	// MONGODB-X509 (certificate authentication: needs tls.certificate_key_file, forbids a password).
	AuthMechanism AuthMechanism `yaml:"auth_mechanism,omitempty" json:"auth_mechanism,omitempty"`
	// ConnectTimeout bounds connecting to mongod, 100ms..1m.
	ConnectTimeout time.Duration `yaml:"connect_timeout" json:"connect_timeout"`
	// TLS, when present, means TLS to mongod; the URI must then carry no tls or ssl option. An empty
	// section ({}) uses the system roots and no client certificate.
	TLS *ClientTLS `yaml:"tls,omitempty" json:"tls,omitempty"`

	// Password is read from PasswordFile or PasswordEnv at load; it prints as "[redacted]".
	Password Secret `yaml:"-" json:"password"`
}

// ClientTLS is TLS towards mongod.
type ClientTLS struct {
	// CAFile is a PEM bundle of the CAs that sign mongod's certificate; empty: the system roots.
	CAFile string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	// CertificateKeyFile is the client certificate and its key in one PEM file.
	CertificateKeyFile string `yaml:"certificate_key_file,omitempty" json:"certificate_key_file,omitempty"`
}

// Gossip configures the memberlist cluster of sidecars.
type Gossip struct {
	// Bind is the host:port memberlist listens on. 0.0.0.0 or [::] listens everywhere; then advertise
	// is required.
	Bind string `yaml:"bind" json:"bind"`
	// Advertise is the host:port peers dial; default bind. It must equal this sidecar's
	// members[].gossip.
	Advertise string `yaml:"advertise" json:"advertise"`
	// Seeds are the host:port addresses this sidecar joins through; default the other members' gossip
	// addresses. Unique; an explicit empty list is an error when there are other members.
	Seeds []string `yaml:"seeds" json:"seeds"`
	// KeyringFile holds the gossip keys: base64 keys of 16, 24 or 32 bytes (AES-128/192/256), one per
	// line, the first one encrypting, all accepted (rotation); blank lines and # comments skipped. It
	// encrypts gossip and keys the MAC that proves each view comes from the sidecar it names. Required
	// unless insecure; the same file on every sidecar.
	KeyringFile string `yaml:"keyring_file,omitempty" json:"keyring_file,omitempty"`
	// Profile is the memberlist timing preset: lan, wan or local.
	Profile GossipProfile `yaml:"profile" json:"profile"`
	// Settle is the wait after joining before any verdict, 0..1m.
	Settle time.Duration `yaml:"settle" json:"settle"`

	// Keyring holds the decoded keys of KeyringFile, primary first; empty means unencrypted gossip.
	Keyring []Secret `yaml:"-" json:"keyring,omitempty"`
	// Insecure allows running without KeyringFile: gossip is then neither encrypted nor
	// authenticated. Load refuses a file with neither (gossip_auth.go).
	Insecure bool `yaml:"insecure,omitempty" json:"insecure,omitempty"`
}

// KeyringBytes returns the gossip keys as memberlist wants them (primary first), or nil.
func (g Gossip) KeyringBytes() [][]byte {
	if len(g.Keyring) == 0 {
		return nil
	}
	out := make([][]byte, len(g.Keyring))
	for i, k := range g.Keyring {
		out[i] = []byte(k.Reveal())
	}
	return out
}

// Member is one entry of the configured sidecar membership; quorum is a majority of these.
type Member struct {
	// ID is the sidecar's id, as its own file's id; unique.
	ID string `yaml:"id" json:"id"`
	// Mode is the sidecar's mode, data or arbiter.
	Mode Mode `yaml:"mode" json:"mode"`
	// Gossip is the sidecar's gossip advertise address (host:port); unique.
	Gossip string `yaml:"gossip" json:"gossip"`
	// Mongod is the host:port the replica set config names the member's mongod by: required and unique
	// for data members, forbidden for arbiters.
	Mongod string `yaml:"mongod,omitempty" json:"mongod,omitempty"`
	// Zone is the member's zone, [A-Za-z0-9._-]{1,63}; candidates are ranked by zone
	// (failover.candidates). A sidecar's zone is its entry's.
	Zone string `yaml:"zone,omitempty" json:"zone,omitempty"`
}

// Probe is how often and how hard the sidecar looks at mongod, and when it calls what it sees
// unreachable or sick.
type Probe struct {
	// Interval is the hello/replSetGetStatus probe period, 100ms..1m.
	Interval time.Duration `yaml:"interval" json:"interval"`
	// Timeout bounds one probe, 10ms..1m, less than interval. Default 800ms, or 4/5 of interval if
	// less. While a mongod is silent it is also asked over a fresh connection every timeout/4.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// FailuresBeforeUnreachable is how many questions in a row must go unanswered (probes, and
	// the fresh questions asked during a silence) before this sidecar calls its mongod
	// unreachable, 1..100.
	FailuresBeforeUnreachable int `yaml:"failures_before_unreachable" json:"failures_before_unreachable"`
	// UnreachableAfter: a mongod that answers nothing (timeouts, resets) is unreachable only once it
	// has been silent this long, from the first probe it left unanswered, as well as
	// failures_before_unreachable times in a row; a refused connection counts at once. During a
	// silence the sidecar asks again every timeout/4 over a fresh connection, so a silence ends
	// within that of the mongod answering and a network blip of d reads as at most d + timeout/4
	// (plus a round trip): the default 3s rides out blips up to about 2.7s. Shorter silences are
	// ridden out as network blips; 0 counts failures only. 0..10m.
	UnreachableAfter time.Duration `yaml:"unreachable_after" json:"unreachable_after"`
	// WriteProbeInterval is the period of the write probe on the primary, 100ms..1m.
	WriteProbeInterval time.Duration `yaml:"write_probe_interval" json:"write_probe_interval"`
	// WriteProbeTimeout bounds one write probe, 100ms..5m. A timed-out w:1 j:true probe is a sick
	// signal; a timed-out w:"majority" one alone is replication lag, never acted on.
	WriteProbeTimeout time.Duration `yaml:"write_probe_timeout" json:"write_probe_timeout"`
	// WriteProbeNamespace is the database.collection the probe writes to: not in local or config, not
	// a system collection.
	WriteProbeNamespace string `yaml:"write_probe_namespace" json:"write_probe_namespace"`
	// SickWriteLatency: a w:1 j:true write probe slower than this is a sick signal. 10ms..5m, less
	// than write_probe_timeout; default 2s, or half of write_probe_timeout if less.
	SickWriteLatency time.Duration `yaml:"sick_write_latency" json:"sick_write_latency"`
	// SickAfter is how long sickness must last before rsguard acts, 1s..1h, at least
	// write_probe_interval.
	SickAfter time.Duration `yaml:"sick_after" json:"sick_after"`
	// ViewMaxAge: gossiped views older than this do not count towards a verdict. 200ms..10m, at least
	// 2 x interval; default 5s, or 3 x interval if more.
	ViewMaxAge time.Duration `yaml:"view_max_age" json:"view_max_age"`
}

// Failover is the policy for automatic actions.
type Failover struct {
	// Enabled: false observes, reports and audits only.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// DryRun: true decides and audits but executes nothing.
	DryRun bool `yaml:"dry_run" json:"dry_run"`
	// AntiFlapWindow allows one automatic failover per set per window unless acknowledged, 1s..24h.
	AntiFlapWindow time.Duration `yaml:"anti_flap_window" json:"anti_flap_window"`
	// StepDownSickPrimary acts on a primary that is sick but not dead by stepping up a caught-up
	// healthy secondary (replSetStepUp). Despite the name no replSetStepDown is sent: it would wait
	// for the stalled write's locks. false: report only.
	StepDownSickPrimary bool `yaml:"step_down_sick_primary" json:"step_down_sick_primary"`
	// AbortCatchUp: after stepping a member up over a lost primary, end its catch-up
	// (replSetAbortPrimaryCatchUp) once it only waits for the lost primary to be marked down and no
	// reachable member is ahead of it.
	AbortCatchUp bool `yaml:"abort_catch_up" json:"abort_catch_up"`
	// FenceOldPrimary stops a former primary's mongod that still claims primary fence_after after the
	// failover (by its own sidecar only). false: never fence; where a fence is called for, the
	// decision is refused_fence_disabled.
	FenceOldPrimary bool `yaml:"fence_old_primary" json:"fence_old_primary"`
	// FenceAfter is how long a former primary may linger before it is fenced, 1s..10m.
	FenceAfter time.Duration `yaml:"fence_after" json:"fence_after"`
	// Candidates are the rules a secondary must pass to be stepped up.
	Candidates Candidates `yaml:"candidates" json:"candidates"`
	// ElectionQuiet: a term that began less than this ago means MongoDB's own election may
	// still be settling, so rsguard waits (election.Policy.ElectionQuiet).
	ElectionQuiet time.Duration `yaml:"election_quiet" json:"election_quiet"`
}

// Candidates are the rules a secondary must pass to be stepped up, and the preferences
// that order those that pass.
type Candidates struct {
	// MaxLag skips secondaries further than this behind the freshest reachable member, 0..1h.
	MaxLag time.Duration `yaml:"max_lag" json:"max_lag"`
	// MinPriority skips members below this priority, 0..1000. Priority-0 members are never candidates.
	MinPriority float64 `yaml:"min_priority" json:"min_priority"`
	// PreferZones are zones (of members) whose candidates rank first.
	PreferZones []string `yaml:"prefer_zones" json:"prefer_zones"`
	// AvoidZones are zones whose candidates rank last; disjoint from prefer_zones.
	AvoidZones []string `yaml:"avoid_zones" json:"avoid_zones"`
	// RequireTags are replica-set member tags (rs.conf() members[].tags) a candidate must carry, name:
	// value.
	RequireTags map[string]string `yaml:"require_tags" json:"require_tags"`
}

// HTTP is the listener for /metrics, /healthz, /readyz and the /v1 API.
type HTTP struct {
	// Listen is host:port; an empty host or 0.0.0.0 listens on every address, port 0 picks a free one.
	Listen string `yaml:"listen" json:"listen"`
	// TLS, when present, serves HTTPS; its files are loaded at validation.
	TLS *ServerTLS `yaml:"tls,omitempty" json:"tls,omitempty"`
	// AdminTokenFile holds the bearer token for /v1 admin actions, alone in the file. With neither it
	// nor admin_token_env, admin actions are disabled. A literal admin_token key is rejected.
	AdminTokenFile string `yaml:"admin_token_file,omitempty" json:"admin_token_file,omitempty"`
	// AdminTokenEnv names an environment variable holding the admin token; not with admin_token_file.
	AdminTokenEnv string `yaml:"admin_token_env,omitempty" json:"admin_token_env,omitempty"`
	// ReadTokenFile holds a read-only bearer token: when set (or read_token_env), every GET under
	// /v1 needs it or the admin token; with neither, the GETs are open. Must differ from the admin
	// token.
	ReadTokenFile string `yaml:"read_token_file,omitempty" json:"read_token_file,omitempty"`
	// ReadTokenEnv names an environment variable holding the read token; not with read_token_file.
	ReadTokenEnv string `yaml:"read_token_env,omitempty" json:"read_token_env,omitempty"`

	// AdminToken is the bearer token for admin actions; zero means admin actions are disabled.
	AdminToken Secret `yaml:"-" json:"admin_token"`
	// ReadToken is the read-only bearer token; zero means reads are open.
	ReadToken Secret `yaml:"-" json:"read_token"`
}

// ServerTLS is TLS for the HTTP listener.
type ServerTLS struct {
	// CertFile is the server certificate (PEM); required with key_file.
	CertFile string `yaml:"cert_file" json:"cert_file"`
	// KeyFile is the server certificate's key (PEM).
	KeyFile string `yaml:"key_file" json:"key_file"`
	// ClientCAFile, when set, requires client certificates signed by these CAs.
	ClientCAFile string `yaml:"client_ca_file,omitempty" json:"client_ca_file,omitempty"`
}

// Log configures the process logger.
type Log struct {
	// Level is the minimum level logged: debug, info, warn or error. Reloadable.
	Level LogLevel `yaml:"level" json:"level"`
	// Format is json (slog.JSONHandler) or text.
	Format LogFormat `yaml:"format" json:"format"`
}

// File is the name the configuration was loaded from.
func (c *Config) File() string {
	if c.src == nil {
		return ""
	}
	return c.src.file
}

// positions returns the key positions, empty for a Config built by hand.
func (c *Config) positions() map[string]pos {
	if c.src == nil {
		return map[string]pos{}
	}
	return c.src.pos
}

// Quorum is the number of sidecars that must agree on a verdict: a strict majority of Members.
func (c *Config) Quorum() int { return len(c.Members)/2 + 1 }

// Self is this sidecar's own entry in Members.
func (c *Config) Self() Member {
	for _, m := range c.Members {
		if m.ID == c.ID {
			return m
		}
	}
	return Member{ID: c.ID, Mode: c.Mode, Gossip: c.Gossip.Advertise}
}

// Zone is this sidecar's zone, taken from its Members entry.
func (c *Config) Zone() string { return c.Self().Zone }

// Peers are the Members other than this sidecar, in file order.
func (c *Config) Peers() []Member {
	out := make([]Member, 0, len(c.Members))
	for _, m := range c.Members {
		if m.ID != c.ID {
			out = append(out, m)
		}
	}
	return out
}

// DataMembers are the Members in mode data, in file order.
func (c *Config) DataMembers() []Member {
	var out []Member
	for _, m := range c.Members {
		if m.Mode == ModeData {
			out = append(out, m)
		}
	}
	return out
}
