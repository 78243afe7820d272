package lab

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Sidecar modes, as the config's mode key spells them.
const (
	ModeData    = "data"
	ModeArbiter = "arbiter"
)

// Sidecar is one rsguard sidecar (`supervisor run --config FILE`) laid out on a host: beside the
// host's mongod (data) or on a host of its own (arbiter). It runs in the host's cgroup, so
// partitions and Close treat it like the host's mongod.
type Sidecar struct {
	ID     string
	Mode   string // ModeData | ModeArbiter
	Host   *Host
	Gossip string // addr:port
	HTTP   string // addr:port
	// Files: its config, state directory, audit log, gossip keyring, admin token and output.
	Config    string
	StateDir  string
	Audit     string
	Keyring   string
	TokenFile string
	Output    string // stdout and stderr ("" with LayoutPerHost: the host's sidecar-ID.stdout/.stderr)
	Proc      *Proc
}

// Base is the sidecar's HTTP base URL.
func (c *Sidecar) Base() string { return "http://" + c.HTTP }

// Running reports whether the sidecar process runs (a frozen one runs).
func (c *Sidecar) Running() bool { return c.Proc != nil && c.Proc.Running() }

// Layout says where a sidecar's files go.
type Layout int

const (
	// LayoutPerHost: <host dir>/rsguard-<id>/{sidecar.yaml,state,audit.jsonl,gossip.keyring,
	// admin.token}: each sidecar's files beside its host's (tests).
	LayoutPerHost Layout = iota
	// LayoutFlat: <Dir>/<id>.yaml, <Dir>/<id>/ (state), <Dir>/<id>.audit.jsonl, <Dir>/<id>.log
	// and one <Dir>/gossip.keyring and <Dir>/admin.token shared by the set (the demo: one
	// directory a person can read).
	LayoutFlat
)

// SidecarOptions shape the set's config files. The zero value is the drill default: probe
// interval 1s, failover enabled, every other key at its documented default, log level debug.
type SidecarOptions struct {
	Layout Layout
	Dir    string // LayoutFlat's directory
	// Header is the first comment line of c's file (nil: one naming the sidecar and its host).
	Header func(c *Sidecar) string
	// ReplicaSet overrides the set name written into the configs (bad-input drills).
	ReplicaSet string
	// ArbiterID names the i-th (0-based) arbiter sidecar (default "arb-<i+1>").
	ArbiterID func(i int) string
	// FreePorts takes another port when 7946/9216 is taken on the address (the demo beside other
	// programs); otherwise the documented defaults are written as they are.
	FreePorts bool
	// Keyring is the gossip keyring file's content ("" a fresh key); Token the admin token's
	// ("" a fresh random one). Files that exist are kept (a reused --dir keeps its keys).
	Keyring, Token string

	ProbeInterval      time.Duration // default 1s
	WriteProbeInterval time.Duration // 0: not written
	Settle             time.Duration // gossip.settle; 0: not written
	ConnectTimeout     time.Duration // mongod.connect_timeout; 0: not written
	AntiFlapWindow     time.Duration // failover.anti_flap_window; 0: not written
	FailoverDisabled   bool          // failover.enabled: false
	Seeds              []string      // gossip.seeds (nil: the default, the other members)
	LogLevel           string        // default "debug"
	// Exec makes each data sidecar own its mongod (process.controller exec with the host's
	// command line; output to the host's mongod.out).
	Exec bool
	// Extra is appended verbatim to every file (top-level keys); HostExtra, when set, to each
	// data sidecar's file with what it returns for the sidecar's host.
	Extra     string
	HostExtra func(h *Host) string
}

func (o SidecarOptions) withDefaults() SidecarOptions {
	if o.ProbeInterval == 0 {
		o.ProbeInterval = time.Second
	}
	if o.LogLevel == "" {
		o.LogLevel = "debug"
	}
	if o.ArbiterID == nil {
		o.ArbiterID = func(i int) string { return fmt.Sprintf("arb-%d", i+1) }
	}
	return o
}

// layout places a sidecar's files and ports.
func layout(o SidecarOptions, id, mode string, h *Host) (*Sidecar, error) {
	c := &Sidecar{ID: id, Mode: mode, Host: h}
	gp, hp := SidecarGossipPort, SidecarHTTPPort
	if o.FreePorts {
		var err error
		if gp, err = FreePort(h.Addr, SidecarGossipPort, true); err != nil {
			return nil, err
		}
		if hp, err = FreePort(h.Addr, SidecarHTTPPort, false); err != nil {
			return nil, err
		}
	}
	c.Gossip = net.JoinHostPort(h.Addr, strconv.Itoa(gp))
	c.HTTP = net.JoinHostPort(h.Addr, strconv.Itoa(hp))
	switch o.Layout {
	case LayoutFlat:
		if o.Dir == "" {
			return nil, fmt.Errorf("sidecar %s: LayoutFlat needs SidecarOptions.Dir", id)
		}
		c.Config = filepath.Join(o.Dir, id+".yaml")
		c.StateDir = filepath.Join(o.Dir, id)
		c.Audit = filepath.Join(o.Dir, id+".audit.jsonl")
		c.Keyring = filepath.Join(o.Dir, "gossip.keyring")
		c.TokenFile = filepath.Join(o.Dir, "admin.token")
		c.Output = filepath.Join(o.Dir, id+".log")
	default:
		dir := filepath.Join(h.Dir, "rsguard-"+id)
		c.Config = filepath.Join(dir, "sidecar.yaml")
		c.StateDir = filepath.Join(dir, "state")
		c.Audit = filepath.Join(dir, "audit.jsonl")
		c.Keyring = filepath.Join(dir, "gossip.keyring")
		c.TokenFile = filepath.Join(dir, "admin.token")
	}
	return c, nil
}

// relPath writes p relative to the config file's directory when it lies there (the demo's files
// read as a person would write them), else absolute.
func relPath(config, p string) string {
	if filepath.Dir(p) == filepath.Dir(config) {
		return filepath.Base(p)
	}
	return p
}

// SidecarYAML renders c's config file; all is the whole set (the members list).
func SidecarYAML(set string, c *Sidecar, all []*Sidecar, o SidecarOptions) string {
	o = o.withDefaults()
	if o.ReplicaSet != "" {
		set = o.ReplicaSet
	}
	var b strings.Builder
	header := fmt.Sprintf("rsguard lab sidecar %s on %s", c.ID, c.Host.Addr)
	if o.Header != nil {
		header = o.Header(c)
	}
	fmt.Fprintf(&b, "# %s\n", header)
	fmt.Fprintf(&b, "id: %s\nmode: %s\nreplica_set: %s\n", c.ID, c.Mode, set)
	fmt.Fprintf(&b, "state_dir: %q\naudit_log: %q\n", c.StateDir, c.Audit)
	if c.Mode == ModeData {
		fmt.Fprintf(&b, "mongod:\n  uri: mongodb://%s/?directConnection=true\n", c.Host.HostPort())
		if o.ConnectTimeout > 0 {
			fmt.Fprintf(&b, "  connect_timeout: %s\n", dur(o.ConnectTimeout))
		}
	}
	fmt.Fprintf(&b, "gossip:\n  bind: %s\n", c.Gossip)
	if o.Settle > 0 {
		fmt.Fprintf(&b, "  settle: %s\n", dur(o.Settle))
	}
	fmt.Fprintf(&b, "  keyring_file: %q\n", relPath(c.Config, c.Keyring))
	if o.Seeds != nil {
		fmt.Fprintf(&b, "  seeds: [%s]\n", strings.Join(o.Seeds, ", "))
	}
	b.WriteString("members:\n")
	for _, m := range all {
		if m.Mode == ModeData {
			fmt.Fprintf(&b, "  - {id: %s, mode: data, gossip: %s, mongod: %s}\n", m.ID, m.Gossip, m.Host.HostPort())
		} else {
			fmt.Fprintf(&b, "  - {id: %s, mode: arbiter, gossip: %s}\n", m.ID, m.Gossip)
		}
	}
	if o.Exec && c.Mode == ModeData {
		// The sidecar owns its mongod: it starts it, restarts it after a crash, and archives
		// its rollback files (recovery.dbpath comes from --dbpath).
		h := c.Host
		fmt.Fprintf(&b, "process:\n  controller: exec\n  exec:\n    path: %q\n    output: %q\n    args:\n",
			h.Mongod(), filepath.Join(h.Dir, "mongod.out"))
		for _, a := range h.Args() {
			fmt.Fprintf(&b, "      - %q\n", a)
		}
	}
	fmt.Fprintf(&b, "probe:\n  interval: %s\n", dur(o.ProbeInterval))
	if o.WriteProbeInterval > 0 {
		fmt.Fprintf(&b, "  write_probe_interval: %s\n", dur(o.WriteProbeInterval))
	}
	fmt.Fprintf(&b, "failover:\n  enabled: %v\n", !o.FailoverDisabled)
	if o.AntiFlapWindow > 0 {
		fmt.Fprintf(&b, "  anti_flap_window: %s\n", dur(o.AntiFlapWindow))
	}
	fmt.Fprintf(&b, "http:\n  listen: %s\n  admin_token_file: %q\n", c.HTTP, relPath(c.Config, c.TokenFile))
	fmt.Fprintf(&b, "log:\n  level: %s\n  format: json\n", o.LogLevel)
	b.WriteString(o.Extra)
	if o.HostExtra != nil && c.Mode == ModeData {
		b.WriteString(o.HostExtra(c.Host))
	}
	return b.String()
}

// dur writes a duration as a person would: 5m, 1m30s, 500ms.
func dur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
