package config

import (
	"log/slog"

	"go.yaml.in/yaml/v3"
)

// LogValue is the one-line summary a sidecar logs at start and after a reload: who it is, whom
// it gossips with and the policy in force. It holds no secret.
func (c *Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("file", c.File()),
		slog.String("id", c.ID),
		slog.String("mode", string(c.Mode)),
		slog.String("replica_set", c.ReplicaSet),
		slog.String("zone", c.Zone()),
		slog.Int("members", len(c.Members)),
		slog.Int("quorum", c.Quorum()),
		slog.String("gossip", c.Gossip.Advertise),
		slog.Bool("gossip_encrypted", len(c.Gossip.Keyring) > 0),
		slog.Bool("gossip_insecure", c.Gossip.Insecure),
		slog.String("http", c.HTTP.Listen),
		slog.Bool("http_tls", c.HTTP.TLS != nil),
		slog.Bool("failover", c.Failover.Enabled),
		slog.Bool("dry_run", c.Failover.DryRun),
		slog.Duration("anti_flap_window", c.Failover.AntiFlapWindow),
		slog.Duration("election_quiet", c.Failover.ElectionQuiet),
		slog.Duration("probe_interval", c.Probe.Interval),
		// Whether it may act on members other than its own mongod (MemberAccess).
		slog.Bool("member_access", c.MemberAccess() != nil),
	)
}

// YAML renders the effective configuration, defaults and resolved paths included, for
// `supervisor validate-config --print`. Secrets are not part of it (only the files or variables
// they come from), and the output parses back to the same Config.
func (c *Config) YAML() ([]byte, error) {
	return yaml.Marshal(c)
}
