package config

import (
	"path/filepath"
	"time"

	"github.com/rsguard/rsguard/election"
)

// Default values of optional keys. doc.go lists them; keep the two in step.
const (
	DefaultStateDir       = "/var/lib/rsguard"
	DefaultAuditLogName   = "audit.jsonl" // inside state_dir
	DefaultAuthSource     = "admin"
	DefaultConnectTimeout = 2 * time.Second
	DefaultGossipSettle   = 3 * time.Second
	DefaultHTTPListen     = "127.0.0.1:9216"
	DefaultProbeNamespace = "rsguard.probe"
	// DefaultUnreachableAfter is how long a mongod must answer nothing before a sidecar calls it
	// unreachable (a refused connection counts at once). A silent host and a frozen one look the
	// same from outside; this is the silence rsguard rides out as a network blip.
	DefaultUnreachableAfter = 3 * time.Second
)

// Default returns a Config holding the default of every optional key and nothing else: no
// identity, members or mongod section. Parse starts from it. The failover and probe keys that
// map onto election.Policy take their defaults from election.DefaultPolicy, the one source
// (supervisor's policyFrom maps them back; its test checks the round trip).
func Default() Config {
	pol := election.DefaultPolicy()
	return Config{
		StateDir: DefaultStateDir,
		Gossip: Gossip{
			Profile: ProfileLAN,
			Settle:  DefaultGossipSettle,
		},
		Probe: Probe{
			Interval:                  time.Second,
			Timeout:                   800 * time.Millisecond,
			FailuresBeforeUnreachable: pol.ProbeFailures,
			UnreachableAfter:          DefaultUnreachableAfter,
			WriteProbeInterval:        time.Second,
			WriteProbeTimeout:         5 * time.Second,
			WriteProbeNamespace:       DefaultProbeNamespace,
			SickWriteLatency:          pol.ProbeSlow,
			SickAfter:                 pol.SickAfter,
			ViewMaxAge:                5 * time.Second,
		},
		Failover: Failover{
			Enabled:             pol.Enabled,
			AntiFlapWindow:      pol.AntiFlapWindow,
			StepDownSickPrimary: true,
			AbortCatchUp:        pol.AbortCatchUp,
			FenceOldPrimary:     pol.FenceAfter > 0,
			FenceAfter:          pol.FenceAfter,
			ElectionQuiet:       pol.ElectionQuiet,
			Candidates: Candidates{
				MaxLag:      pol.MaxLag,
				PreferZones: []string{},
				AvoidZones:  []string{},
				RequireTags: map[string]string{},
			},
		},
		Process: Process{
			Controller:  ControllerNone,
			MinBackoff:  DefaultProcessMinBackoff,
			MaxBackoff:  DefaultProcessMaxBackoff,
			CrashWindow: DefaultProcessCrashWindow,
			StopTimeout: DefaultProcessStopTimeout,
		},
		Recovery: Recovery{Resync: ResyncAuto, ResyncKeep: 1, ResyncMaxLag: 10 * time.Second, ResyncWindows: []string{},
			PSAMitigation: "auto", PSALostAfter: 30 * time.Second, ReAdd: "auto"},
		Notifications: Notifications{Webhooks: []Webhook{}},
		HTTP:          HTTP{Listen: DefaultHTTPListen},
		Log:           Log{Level: LogInfo, Format: LogJSON},
	}
}

func (m *Mongod) setDefaults() {
	m.AuthSource = DefaultAuthSource
	m.ConnectTimeout = DefaultConnectTimeout
}

func (m *Member) setDefaults() { m.Mode = ModeData }

// deriveDefaults fills the defaults that depend on other keys, after decoding; set reports
// whether the file named a key. Probe defaults follow the intervals the file did set, so that
// changing one interval does not make an untouched default invalid.
func (c *Config) deriveDefaults(set func(key string) bool) {
	p := &c.Probe
	if !set("probe.timeout") {
		p.Timeout = min(p.Timeout, p.Interval*4/5)
	}
	if !set("probe.view_max_age") {
		p.ViewMaxAge = max(p.ViewMaxAge, 3*p.Interval)
	}
	if !set("probe.sick_write_latency") {
		p.SickWriteLatency = min(p.SickWriteLatency, p.WriteProbeTimeout/2)
	}
	if !set("probe.sick_after") {
		p.SickAfter = max(p.SickAfter, p.WriteProbeInterval)
	}
	c.deriveRecovery()
	c.deriveNotify()
	if c.AuditLog == "" && c.StateDir != "" {
		c.AuditLog = filepath.Join(c.StateDir, DefaultAuditLogName)
	}
	if c.Gossip.Advertise == "" {
		c.Gossip.Advertise = c.Gossip.Bind
	}
	if c.Gossip.Seeds == nil {
		c.Gossip.Seeds = []string{}
		for _, m := range c.Members {
			if m.ID != c.ID && m.Gossip != "" {
				c.Gossip.Seeds = append(c.Gossip.Seeds, m.Gossip)
			}
		}
	}
	if c.Failover.Candidates.PreferZones == nil {
		c.Failover.Candidates.PreferZones = []string{}
	}
	if c.Failover.Candidates.AvoidZones == nil {
		c.Failover.Candidates.AvoidZones = []string{}
	}
	if c.Failover.Candidates.RequireTags == nil {
		c.Failover.Candidates.RequireTags = map[string]string{}
	}
}

// resolvePaths makes relative file paths relative to the config file's directory, so that a
// config and the files it names can move together.
func (c *Config) resolvePaths(base string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	abs(&c.StateDir)
	abs(&c.AuditLog)
	abs(&c.Gossip.KeyringFile)
	abs(&c.HTTP.AdminTokenFile)
	abs(&c.HTTP.ReadTokenFile)
	abs(&c.Recovery.DBPath)
	abs(&c.Recovery.RollbackArchive)
	if e := c.Process.Exec; e != nil {
		abs(&e.Output)
	}
	c.resolveNotifyPaths(abs)
	if m := c.Mongod; m != nil {
		abs(&m.PasswordFile)
		if m.TLS != nil {
			abs(&m.TLS.CAFile)
			abs(&m.TLS.CertificateKeyFile)
		}
	}
	if r := c.Credentials; r != nil {
		r.resolvePaths(abs)
	}
	if t := c.HTTP.TLS; t != nil {
		abs(&t.CertFile)
		abs(&t.KeyFile)
		abs(&t.ClientCAFile)
	}
}
