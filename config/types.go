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
	ID         string   `yaml:"id" json:"id"`
	Mode       Mode     `yaml:"mode" json:"mode"`
	ReplicaSet string   `yaml:"replica_set" json:"replica_set"`
	StateDir   string   `yaml:"state_dir" json:"state_dir"`
	AuditLog   string   `yaml:"audit_log" json:"audit_log"`
	Mongod     *Mongod  `yaml:"mongod,omitempty" json:"mongod,omitempty"`
	Gossip     Gossip   `yaml:"gossip" json:"gossip"`
	Members    []Member `yaml:"members" json:"members"`
	Probe      Probe    `yaml:"probe" json:"probe"`
	Failover   Failover `yaml:"failover" json:"failover"`
	HTTP       HTTP     `yaml:"http" json:"http"`
	Log        Log      `yaml:"log" json:"log"`
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
	URI            string        `yaml:"uri" json:"uri"`
	Username       string        `yaml:"username,omitempty" json:"username,omitempty"`
	PasswordFile   string        `yaml:"password_file,omitempty" json:"password_file,omitempty"`
	PasswordEnv    string        `yaml:"password_env,omitempty" json:"password_env,omitempty"`
	AuthSource     string        `yaml:"auth_source" json:"auth_source"`
	AuthMechanism  AuthMechanism `yaml:"auth_mechanism,omitempty" json:"auth_mechanism,omitempty"`
	ConnectTimeout time.Duration `yaml:"connect_timeout" json:"connect_timeout"`
	TLS            *ClientTLS    `yaml:"tls,omitempty" json:"tls,omitempty"`

	// Password is read from PasswordFile or PasswordEnv at load; it prints as "[redacted]".
	Password Secret `yaml:"-" json:"password"`
}

// ClientTLS is TLS towards mongod.
type ClientTLS struct {
	CAFile             string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	CertificateKeyFile string `yaml:"certificate_key_file,omitempty" json:"certificate_key_file,omitempty"`
}

// Gossip configures the memberlist cluster of sidecars.
type Gossip struct {
	Bind        string        `yaml:"bind" json:"bind"`
	Advertise   string        `yaml:"advertise" json:"advertise"`
	Seeds       []string      `yaml:"seeds" json:"seeds"`
	KeyringFile string        `yaml:"keyring_file,omitempty" json:"keyring_file,omitempty"`
	Profile     GossipProfile `yaml:"profile" json:"profile"`
	Settle      time.Duration `yaml:"settle" json:"settle"`

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
	ID     string `yaml:"id" json:"id"`
	Mode   Mode   `yaml:"mode" json:"mode"`
	Gossip string `yaml:"gossip" json:"gossip"`
	Mongod string `yaml:"mongod,omitempty" json:"mongod,omitempty"`
	Zone   string `yaml:"zone,omitempty" json:"zone,omitempty"`
}

// Probe is how often and how hard the sidecar looks at mongod, and when it calls what it sees
// unreachable or sick.
type Probe struct {
	Interval                  time.Duration `yaml:"interval" json:"interval"`
	Timeout                   time.Duration `yaml:"timeout" json:"timeout"`
	FailuresBeforeUnreachable int           `yaml:"failures_before_unreachable" json:"failures_before_unreachable"`
	UnreachableAfter          time.Duration `yaml:"unreachable_after" json:"unreachable_after"`
	WriteProbeInterval        time.Duration `yaml:"write_probe_interval" json:"write_probe_interval"`
	WriteProbeTimeout         time.Duration `yaml:"write_probe_timeout" json:"write_probe_timeout"`
	WriteProbeNamespace       string        `yaml:"write_probe_namespace" json:"write_probe_namespace"`
	SickWriteLatency          time.Duration `yaml:"sick_write_latency" json:"sick_write_latency"`
	SickAfter                 time.Duration `yaml:"sick_after" json:"sick_after"`
	ViewMaxAge                time.Duration `yaml:"view_max_age" json:"view_max_age"`
}

// Failover is the policy for automatic actions.
type Failover struct {
	Enabled             bool          `yaml:"enabled" json:"enabled"`
	DryRun              bool          `yaml:"dry_run" json:"dry_run"`
	AntiFlapWindow      time.Duration `yaml:"anti_flap_window" json:"anti_flap_window"`
	StepDownSickPrimary bool          `yaml:"step_down_sick_primary" json:"step_down_sick_primary"`
	AbortCatchUp        bool          `yaml:"abort_catch_up" json:"abort_catch_up"`
	FenceOldPrimary     bool          `yaml:"fence_old_primary" json:"fence_old_primary"`
	FenceAfter          time.Duration `yaml:"fence_after" json:"fence_after"`
	Candidates          Candidates    `yaml:"candidates" json:"candidates"`
	// ElectionQuiet: a term that began less than this ago means MongoDB's own election may
	// still be settling, so rsguard waits (election.Policy.ElectionQuiet).
	ElectionQuiet time.Duration `yaml:"election_quiet" json:"election_quiet"`
}

// Candidates are the rules a secondary must pass to be stepped up, and the preferences
// that order those that pass.
type Candidates struct {
	MaxLag      time.Duration     `yaml:"max_lag" json:"max_lag"`
	MinPriority float64           `yaml:"min_priority" json:"min_priority"`
	PreferZones []string          `yaml:"prefer_zones" json:"prefer_zones"`
	AvoidZones  []string          `yaml:"avoid_zones" json:"avoid_zones"`
	RequireTags map[string]string `yaml:"require_tags" json:"require_tags"`
}

// HTTP is the listener for /metrics, /healthz, /readyz and the /v1 API.
type HTTP struct {
	Listen         string     `yaml:"listen" json:"listen"`
	TLS            *ServerTLS `yaml:"tls,omitempty" json:"tls,omitempty"`
	AdminTokenFile string     `yaml:"admin_token_file,omitempty" json:"admin_token_file,omitempty"`
	AdminTokenEnv  string     `yaml:"admin_token_env,omitempty" json:"admin_token_env,omitempty"`

	// AdminToken is the bearer token for admin actions; zero means admin actions are disabled.
	AdminToken Secret `yaml:"-" json:"admin_token"`
}

// ServerTLS is TLS for the HTTP listener.
type ServerTLS struct {
	CertFile     string `yaml:"cert_file" json:"cert_file"`
	KeyFile      string `yaml:"key_file" json:"key_file"`
	ClientCAFile string `yaml:"client_ca_file,omitempty" json:"client_ca_file,omitempty"`
}

// Log configures the process logger.
type Log struct {
	Level  LogLevel  `yaml:"level" json:"level"`
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
