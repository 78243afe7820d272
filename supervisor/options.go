package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/heartbeat"
	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/recovery"
)

// DialFunc opens a Node for the mongod at host ("host:port" as the replica set names it). It must
// not wait for the mongod: a sidecar starts while its mongod is down.
type DialFunc func(ctx context.Context, host string) (mongo.Node, error)

// Options configure a Supervisor. Config is required; everything else has a default.
type Options struct {
	// Config is the loaded configuration. Reload replaces its probe and failover sections.
	Config *config.Config
	// Logger receives the supervisor's logs; nil discards them.
	Logger *slog.Logger
	// Registry receives the supervisor's and the gossip layer's metrics; nil leaves them
	// unregistered.
	Registry prometheus.Registerer
	// DialMongo opens mongod connections; default: mongo.Dial with the config's credentials, the
	// local mongod through mongod.uri and every other member directly by host.
	DialMongo DialFunc
	// GossipOptions, when set, adjusts the gossip options mapped from the config before the
	// gossip layer is created. Tests set Transport to a heartbeat/memnet transport here (memberlist
	// types stay inside heartbeat, DESIGN.md), and may shorten Settle.
	GossipOptions func(*heartbeat.Options)
	// Now is the clock; default time.Now. Under testing/synctest time.Now is already fake.
	Now func() time.Time
	// Controller, when set, owns the local mongod in data mode instead of the one
	// process.controller configures (tests set a fake).
	Controller recovery.Controller
}

func (o Options) withDefaults() (Options, error) {
	if o.Config == nil {
		return o, errors.New("supervisor: Options.Config is required")
	}
	if o.Config.ID == "" || o.Config.ReplicaSet == "" || len(o.Config.Members) == 0 {
		return o, errors.New("supervisor: config has no id, replica_set or members (load it with config.Load)")
	}
	if o.Config.Mode == config.ModeData && o.Config.Self().Mongod == "" {
		return o, fmt.Errorf("supervisor: data sidecar %s has no members[].mongod entry", o.Config.ID)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DialMongo == nil {
		o.DialMongo = defaultDialer(o.Config, o.Logger)
	}
	return o, nil
}

// defaultDialer dials with mongo.Dial. The local mongod is reached through mongod.uri (which may
// name another address than the replica set does, e.g. 127.0.0.1), every other member directly at
// the host the set names. The credentials and TLS of config.MemberAccess apply to both: a data
// sidecar's mongod section, an arbiter sidecar's credentials section; an arbiter sidecar without
// one probes without credentials (hello needs none) and is never addressed an action.
func defaultDialer(cfg *config.Config, logger *slog.Logger) DialFunc {
	return func(ctx context.Context, host string) (mongo.Node, error) {
		n, err := mongo.Dial(ctx, logger, dialOptions(cfg, host))
		if err != nil {
			return nil, fmt.Errorf("supervisor: dial %s: %w", host, err)
		}
		return n, nil
	}
}

// dialOptions are the driver options for host: mongod.uri for the local mongod, the host itself
// for any other, with the credentials and TLS of config.MemberAccess.
func dialOptions(cfg *config.Config, host string) mongo.Options {
	o := mongo.Options{AppName: "rsguard-" + cfg.ID, ProbeNamespace: cfg.Probe.WriteProbeNamespace}
	uri := "mongodb://" + host + "/?directConnection=true"
	if m := cfg.Mongod; m != nil && host == cfg.Self().Mongod {
		uri = m.URI
	}
	if m := cfg.MemberAccess(); m != nil {
		o.Username, o.Password, o.AuthSource = m.Username, m.Password.Reveal(), m.AuthSource
		o.AuthMechanism = string(m.AuthMechanism)
		o.ConnectTimeout = m.ConnectTimeout
		uri = withParams(uri, uriParams(m))
	}
	o.URI = uri
	return o
}

// uriParams carries the settings mongo.Options has no field for as URI options.
func uriParams(m *config.Credentials) url.Values {
	v := url.Values{}
	if t := m.TLS; t != nil {
		v.Set("tls", "true")
		if t.CAFile != "" {
			v.Set("tlsCAFile", t.CAFile)
		}
		if t.CertificateKeyFile != "" {
			v.Set("tlsCertificateKeyFile", t.CertificateKeyFile)
		}
	}
	if m.AuthMechanism == config.AuthX509 && m.Username == "" {
		v.Set("authMechanism", string(m.AuthMechanism))
	}
	return v
}

func withParams(uri string, v url.Values) string {
	if len(v) == 0 {
		return uri
	}
	sep := "?"
	switch {
	case strings.Contains(uri, "?"):
		sep = "&"
	case !strings.Contains(strings.TrimPrefix(uri, "mongodb://"), "/"):
		sep = "/?"
	}
	return uri + sep + v.Encode()
}

// profileProbeInterval maps gossip.profile to memberlist's probe interval: local networks
// tolerate a faster detector, WAN links need a slower one to avoid false suspicion.
func profileProbeInterval(p config.GossipProfile) time.Duration {
	switch p {
	case config.ProfileLocal:
		return 200 * time.Millisecond
	case config.ProfileWAN:
		return 2 * time.Second
	}
	return 500 * time.Millisecond
}

// gossipOptions maps the gossip section. The replica-set name is the memberlist label, so that
// sidecars of two sets sharing addresses never merge.
func gossipOptions(cfg *config.Config) (heartbeat.Options, error) {
	bindHost, bindPort, err := splitHostPort(cfg.Gossip.Bind)
	if err != nil {
		return heartbeat.Options{}, fmt.Errorf("supervisor: gossip.bind: %w", err)
	}
	o := heartbeat.Options{
		NodeID:   cfg.ID,
		BindAddr: bindHost,
		BindPort: bindPort,
		Seeds:    cfg.Gossip.Seeds,
		Keyring:  cfg.Gossip.KeyringBytes(),
		Label:    cfg.ReplicaSet,
		Settle:   cfg.Gossip.Settle,
		// gossip.profile picks the failure detector's pace; heartbeat derives memberlist's other
		// timings from it (heartbeat/doc.go). lan is heartbeat's own default.
		ProbeInterval: profileProbeInterval(cfg.Gossip.Profile),
		// Only configured sidecars take part, and only with the keyring unless the file says
		// gossip.insecure (config refuses neither; heartbeat refuses an unmarked empty keyring).
		Insecure: cfg.Gossip.Insecure,
		Members:  memberIDs(cfg),
	}
	if cfg.Gossip.Advertise != "" && cfg.Gossip.Advertise != cfg.Gossip.Bind {
		if o.AdvertiseAddr, o.AdvertisePort, err = splitHostPort(cfg.Gossip.Advertise); err != nil {
			return heartbeat.Options{}, fmt.Errorf("supervisor: gossip.advertise: %w", err)
		}
	}
	return o, nil
}

func splitHostPort(s string) (string, int, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%q: %w", s, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", 0, fmt.Errorf("%q: port: %w", s, err)
	}
	return host, p, nil
}
