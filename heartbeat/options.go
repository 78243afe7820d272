package heartbeat

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// Defaults; doc.go explains each choice.
const (
	DefaultPushInterval  = 500 * time.Millisecond
	DefaultSettle        = 3 * time.Second
	DefaultProbeInterval = 500 * time.Millisecond
	DefaultRetryInterval = time.Second
	maxRetryInterval     = 5 * time.Second
	eventBuffer          = 256
)

// Options configures a Gossip. Config loading lives elsewhere (config/); this is the mapped,
// validated form.
type Options struct {
	// NodeID is the sidecar id: the memberlist node name and the key of its views. Required.
	NodeID string
	// BindAddr and BindPort are where the real-network transport listens (TCP and UDP on the same
	// port). BindPort 0 picks an ephemeral port (tests). Ignored when Transport is set.
	BindAddr string
	BindPort int
	// AdvertiseAddr and AdvertisePort are what peers dial; empty/zero means the bind address.
	AdvertiseAddr string
	AdvertisePort int
	// Seeds are "ip:port" (or "host:port") of other sidecars to join. Unreachable seeds are retried
	// forever in the background; they never fail Start.
	Seeds []string
	// Keyring enables encryption: raw AES keys of 16, 24 or 32 bytes, the first one primary (used
	// to send), all of them accepted on receipt so keys can be rotated. See ParseKeys.
	Keyring [][]byte
	// Label separates clusters sharing addresses (e.g. the replica-set name); both sides must match.
	Label string
	// Settle is the minimum time after Start before Settled can report true.
	Settle time.Duration
	// PushInterval is how often the local view is pushed to every alive member.
	PushInterval time.Duration
	// ProbeInterval is memberlist's failure-detector period; the other memberlist timings derive
	// from it (doc.go).
	ProbeInterval time.Duration
	// RetryInterval is the first delay between join attempts; it doubles up to 5s while they fail.
	RetryInterval time.Duration
	// Transport replaces the real network, e.g. with a memnet transport in tests.
	Transport memberlist.Transport
	// Clock stamps received views; nil means time.Now.
	Clock func() time.Time
	// Members are the configured sidecar ids, NodeID among them. When set, a view whose origin or
	// sender is not one of them is dropped (rsguard_heartbeat_views_rejected_total) and memberlist
	// ignores nodes of other names. Empty accepts any id.
	Members []string
	// Insecure allows an empty Keyring: gossip is then neither encrypted nor authenticated (views
	// carry no MAC) and rsguard_heartbeat_insecure is 1. Without it New refuses an empty Keyring.
	Insecure bool
}

func (o Options) withDefaults() (Options, error) {
	if o.NodeID == "" {
		return o, errors.New("heartbeat: NodeID is required")
	}
	if strings.ContainsAny(o.NodeID, "/ \t\n") {
		return o, fmt.Errorf("heartbeat: NodeID %q: no slashes or spaces", o.NodeID)
	}
	if o.BindAddr == "" {
		o.BindAddr = "0.0.0.0"
	}
	if o.BindPort < 0 || o.BindPort > 65535 || o.AdvertisePort < 0 || o.AdvertisePort > 65535 {
		return o, fmt.Errorf("heartbeat: port out of range (bind %d, advertise %d)", o.BindPort, o.AdvertisePort)
	}
	if o.AdvertisePort == 0 {
		o.AdvertisePort = o.BindPort
	}
	for _, k := range o.Keyring {
		if err := memberlist.ValidateKey(k); err != nil {
			return o, fmt.Errorf("heartbeat: keyring: %w", err)
		}
	}
	if len(o.Keyring) == 0 && !o.Insecure {
		return o, fmt.Errorf("heartbeat: %s: no Keyring: gossip would be unauthenticated (set Insecure to allow it)", o.NodeID)
	}
	if len(o.Members) > 0 && !slices.Contains(o.Members, o.NodeID) {
		return o, fmt.Errorf("heartbeat: NodeID %q is not in Members %v", o.NodeID, o.Members)
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	if o.PushInterval <= 0 {
		o.PushInterval = DefaultPushInterval
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = DefaultProbeInterval
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return o, nil
}

// ParseKeys decodes base64 keys (standard encoding, as `openssl rand -base64 32` prints them) for
// Options.Keyring, keeping their order: the first is primary.
func ParseKeys(b64 []string) ([][]byte, error) {
	keys := make([][]byte, 0, len(b64))
	for i, s := range b64 {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("heartbeat: key %d: %w", i, err)
		}
		if err := memberlist.ValidateKey(k); err != nil {
			return nil, fmt.Errorf("heartbeat: key %d: %w", i, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// memberlistConfig maps Options onto memberlist's LAN profile with the timings doc.go justifies.
func (o Options) memberlistConfig() (*memberlist.Config, error) {
	c := memberlist.DefaultLANConfig()
	c.Name = o.NodeID
	c.BindAddr, c.BindPort = o.BindAddr, o.BindPort
	c.AdvertiseAddr, c.AdvertisePort = o.AdvertiseAddr, o.AdvertisePort
	c.Transport = o.Transport
	c.Label = o.Label

	c.ProbeInterval = o.ProbeInterval
	c.ProbeTimeout = o.ProbeInterval / 2
	c.SuspicionMult = 3
	c.SuspicionMaxTimeoutMult = 2
	c.GossipInterval = 200 * time.Millisecond
	c.GossipNodes = 3
	c.PushPullInterval = 10 * time.Second
	c.TCPTimeout = 2 * time.Second
	c.GossipToTheDeadTime = 30 * time.Second
	c.DeadNodeReclaimTime = 5 * time.Second

	if len(o.Keyring) > 0 {
		kr, err := memberlist.NewKeyring(o.Keyring[1:], o.Keyring[0])
		if err != nil {
			return nil, fmt.Errorf("heartbeat: keyring: %w", err)
		}
		c.Keyring = kr
		c.GossipVerifyIncoming, c.GossipVerifyOutgoing = true, true
	}
	return c, nil
}
