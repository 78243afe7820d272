package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/supervisor"
)

// Sidecar ports on each host's own loopback address: the documented defaults (config/doc.go),
// which never collide because every host has its own address.
const (
	sidecarGossipPort = 7946
	sidecarHTTPPort   = 9216
	sidecarToken      = "e2e-drill-token"
)

// electionQuiet is the policy's quiet period plus scheduling slack: for this long after a term
// change the sidecars leave the set to MongoDB's own election.
var electionQuiet = election.DefaultPolicy().ElectionQuiet + 500*time.Millisecond

// sidecar is one rsguard sidecar (`supervisor run --config FILE`) started on a harness host, in
// the host's cgroup so that partitions and cleanup treat it like the host's mongod.
type sidecar struct {
	ID     string
	Mode   string // "data" | "arbiter"
	Host   *harness.Host
	Gossip string // addr:7946
	HTTP   string // addr:9216
	Config string // path of its YAML file
	Audit  string // path of its audit log
	Proc   *harness.Proc
}

// sidecarOpts tweak the generated config files. The zero value is the drill default: probe
// interval 1s, every other key at its documented default (failover enabled).
type sidecarOpts struct {
	// ReplicaSet overrides the set name written into the configs (bad-input drills).
	ReplicaSet string
	// FailoverDisabled writes failover.enabled: false.
	FailoverDisabled bool
	// Seeds overrides gossip.seeds (nil: the default, the other members).
	Seeds []string
	// Extra is appended verbatim to every file (top-level keys).
	Extra string
	// HostExtra, when set, is appended to each data sidecar's file with what it returns for the
	// sidecar's host (a process section with that host's mongod command line).
	HostExtra func(h *harness.Host) string
}

// sidecarSet is the sidecars of one replica set.
type sidecarSet struct {
	t    testing.TB
	bin  string
	set  string
	cars []*sidecar
	http *http.Client
	// keyring is the set's gossip keyring file content (one fresh key per set, in every
	// sidecar's directory): sidecar configs need one (gossip_auth_test.go).
	keyring string
}

// newSidecars lays out one data sidecar beside each data host's mongod (ids node-a, node-b, ...)
// and one arbiter sidecar per arbiter host (arb-1, ...), and writes their config files into the
// hosts' directories. A host listed in arbiters may also run an arbiter mongod (PSA drill) or no
// mongod at all. Nothing is started.
func newSidecars(t testing.TB, bin, set string, data, arbiters []*harness.Host, o sidecarOpts) *sidecarSet {
	t.Helper()
	if bin == "" {
		t.Skip("e2e: ./cmd/supervisor is not built yet (no supervisor binary)")
	}
	s := &sidecarSet{t: t, bin: bin, set: set, http: &http.Client{Timeout: 2 * time.Second}}
	s.keyring = newGossipKeyring(t)
	add := func(id, mode string, h *harness.Host) {
		dir := filepath.Join(h.Dir, "rsguard-"+id)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s.cars = append(s.cars, &sidecar{ID: id, Mode: mode, Host: h,
			Gossip: net.JoinHostPort(h.Addr, fmt.Sprint(sidecarGossipPort)),
			HTTP:   net.JoinHostPort(h.Addr, fmt.Sprint(sidecarHTTPPort)),
			Config: filepath.Join(dir, "sidecar.yaml"), Audit: filepath.Join(dir, "audit.jsonl")})
	}
	for i, h := range data {
		add("node-"+string(rune('a'+i)), "data", h)
	}
	for i, h := range arbiters {
		add(fmt.Sprintf("arb-%d", i+1), "arbiter", h)
	}
	for _, c := range s.cars {
		if err := s.writeConfig(c, o); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// yaml renders c's config file.
func (s *sidecarSet) yaml(c *sidecar, o sidecarOpts) string {
	set := s.set
	if o.ReplicaSet != "" {
		set = o.ReplicaSet
	}
	dir := filepath.Dir(c.Config)
	var b strings.Builder
	fmt.Fprintf(&b, "# e2e drill sidecar %s on %s\n", c.ID, c.Host.Addr)
	fmt.Fprintf(&b, "id: %s\nmode: %s\nreplica_set: %s\n", c.ID, c.Mode, set)
	fmt.Fprintf(&b, "state_dir: %q\naudit_log: %q\n", filepath.Join(dir, "state"), c.Audit)
	if c.Mode == "data" {
		fmt.Fprintf(&b, "mongod:\n  uri: mongodb://%s/?directConnection=true\n", c.Host.HostPort())
	}
	fmt.Fprintf(&b, "gossip:\n  bind: %s\n", c.Gossip)
	fmt.Fprintf(&b, "  keyring_file: %q\n", filepath.Join(dir, "gossip.keyring"))
	if o.Seeds != nil {
		fmt.Fprintf(&b, "  seeds: [%s]\n", strings.Join(o.Seeds, ", "))
	}
	b.WriteString("members:\n")
	for _, m := range s.cars {
		if m.Mode == "data" {
			fmt.Fprintf(&b, "  - {id: %s, mode: data, gossip: %s, mongod: %s}\n", m.ID, m.Gossip, m.Host.HostPort())
		} else {
			fmt.Fprintf(&b, "  - {id: %s, mode: arbiter, gossip: %s}\n", m.ID, m.Gossip)
		}
	}
	b.WriteString("probe:\n  interval: 1s\n")
	fmt.Fprintf(&b, "failover:\n  enabled: %v\n", !o.FailoverDisabled)
	fmt.Fprintf(&b, "http:\n  listen: %s\n  admin_token_file: %q\n", c.HTTP, filepath.Join(dir, "admin.token"))
	b.WriteString("log:\n  level: debug\n  format: json\n")
	b.WriteString(o.Extra)
	if o.HostExtra != nil && c.Mode == "data" {
		b.WriteString(o.HostExtra(c.Host))
	}
	return b.String()
}

func (s *sidecarSet) writeConfig(c *sidecar, o sidecarOpts) error {
	dir := filepath.Dir(c.Config)
	if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte(sidecarToken+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "gossip.keyring"), []byte(s.keyring), 0o600); err != nil {
		return err
	}
	return os.WriteFile(c.Config, []byte(s.yaml(c, o)), 0o644)
}

// Rewrite rewrites every config file with o and SIGHUPs the running sidecars (probe, failover
// and log.level are reloadable), then waits until each reports the new failover.enabled.
func (s *sidecarSet) Rewrite(t testing.TB, o sidecarOpts) {
	t.Helper()
	for _, c := range s.cars {
		if err := s.writeConfig(c, o); err != nil {
			t.Fatal(err)
		}
		if c.Running() {
			if err := c.Proc.Signal(syscall.SIGHUP); err != nil {
				t.Fatalf("SIGHUP %s: %v", c.ID, err)
			}
		}
	}
	for _, c := range s.cars {
		if !c.Running() {
			continue
		}
		harness.WaitFor(t, 10*time.Second, c.ID+" to reload", func(ctx context.Context) error {
			r, err := s.Status(ctx, c)
			if err != nil {
				return err
			}
			if r.Policy.Enabled == o.FailoverDisabled {
				return fmt.Errorf("%s: failover.enabled still %v", c.ID, r.Policy.Enabled)
			}
			return nil
		})
	}
}

// Start starts every sidecar (SidecarProc).
func (s *sidecarSet) Start(t testing.TB) {
	t.Helper()
	for _, c := range s.cars {
		s.StartOne(t, c)
	}
}

// StartOne starts (or restarts) one sidecar on its host.
func (s *sidecarSet) StartOne(t testing.TB, c *sidecar) {
	t.Helper()
	p, err := c.Host.StartSidecar("sidecar-"+c.ID, s.bin, "run", "--config", c.Config)
	if err != nil {
		t.Fatalf("start sidecar %s: %v", c.ID, err)
	}
	c.Proc = p
}

// Running reports whether the sidecar process runs (a frozen one runs).
func (c *sidecar) Running() bool { return c.Proc != nil && c.Proc.Running() }

// Ready asks /readyz: (HTTP status, body).
func (s *sidecarSet) Ready(ctx context.Context, c *sidecar) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.HTTP+"/readyz", nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body)), err
}

// Status fetches /v1/status.
func (s *sidecarSet) Status(ctx context.Context, c *sidecar) (supervisor.StatusReport, error) {
	var r supervisor.StatusReport
	raw, err := s.StatusJSON(ctx, c)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("%s: decode /v1/status: %w", c.ID, err)
	}
	return r, nil
}

// api is the sidecar's API client (the one /v1 client), over the set's HTTP client.
func (s *sidecarSet) api(c *sidecar, token string) *apiclient.Client {
	cl, err := apiclient.New(apiclient.Options{Addr: c.HTTP, Token: token, HTTPClient: s.http})
	if err != nil {
		panic(fmt.Sprintf("%s: http address %q: %v", c.ID, c.HTTP, err)) // the harness chose it
	}
	return cl
}

// StatusJSON fetches /v1/status as raw JSON (for evidence in failure messages).
func (s *sidecarSet) StatusJSON(ctx context.Context, c *sidecar) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	raw, err := s.api(c, "").Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.ID, err)
	}
	return raw, nil
}

// WaitReady waits until every running sidecar answers /readyz 200.
func (s *sidecarSet) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	harness.WaitFor(t, timeout, "every sidecar ready", func(ctx context.Context) error {
		for _, c := range s.cars {
			if !c.Running() {
				continue
			}
			code, body, err := s.Ready(ctx, c)
			if err != nil {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
			if code != http.StatusOK {
				return fmt.Errorf("%s: /readyz %d: %s", c.ID, code, body)
			}
		}
		return nil
	})
}

// WaitSettled waits until every running sidecar is ready and reports a healthy set with a
// coordinator: only then may a fault be injected (for 12 s after any term change the sidecars
// defer to MongoDB's own election, election.Policy.ElectionQuiet). It also waits for the
// sidecars' anti-flap block to be acknowledged away when ack is set (repeated drill runs).
func (s *sidecarSet) WaitSettled(t testing.TB, timeout time.Duration) {
	t.Helper()
	s.WaitReady(t, timeout)
	harness.WaitFor(t, timeout, "every sidecar to report a healthy set", func(ctx context.Context) error {
		for _, c := range s.cars {
			if !c.Running() {
				continue
			}
			r, err := s.Status(ctx, c)
			if err != nil {
				return err
			}
			if r.Analysis.Kind != election.Healthy || r.Coordinator == "" || !r.Quorum.Has {
				return fmt.Errorf("%s: analysis %s, reason %s, coordinator %q, quorum %v",
					c.ID, r.Analysis.Kind, r.Decision.Reason, r.Coordinator, r.Quorum.Visible)
			}
			// "healthy" does not say whether a fault now would fall into the quiet period
			// after a term change, when the sidecars defer to MongoDB (refused_election_quiet).
			if l := r.Local; l != nil && !l.TermSince.IsZero() && time.Since(l.TermSince) < electionQuiet {
				return fmt.Errorf("%s: term %d began %s ago (quiet period %s)", c.ID, l.Term,
					time.Since(l.TermSince).Round(100*time.Millisecond), electionQuiet)
			}
		}
		return nil
	})
}

// Acknowledge POSTs /v1/acknowledge to every running sidecar, lifting the anti-flap block a
// previous drill run left (the operator's way; the policy itself stays at its defaults), then
// waits until no running sidecar reports automatic failover blocked by anti_flap. The
// acknowledgement travels in the set's shared memory, so a sidecar asked after another one may
// already have it and answers refused_nothing_to_acknowledge: that is the state wanted.
func (s *sidecarSet) Acknowledge(t testing.TB) {
	t.Helper()
	for _, c := range s.cars {
		if !c.Running() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := s.api(c, sidecarToken).Do(ctx, api.ActionAcknowledge, "", api.ActionRequest{Actor: "e2e-drill"}, apiclient.DoOptions{})
		cancel()
		if pe := apiclient.AsProblem(err); pe != nil && pe.Problem.Reason == "refused_nothing_to_acknowledge" {
			err = nil
		}
		if err != nil {
			t.Fatalf("acknowledge on %s: %v", c.ID, err)
		}
	}
	harness.WaitFor(t, 10*time.Second, "every sidecar to see the acknowledgement", func(ctx context.Context) error {
		for _, c := range s.cars {
			if !c.Running() {
				continue
			}
			cl, err := s.api(c, sidecarToken).Cluster(ctx)
			if err != nil {
				return err
			}
			if slices.Contains(cl.AutomaticFailover.Blocked, "anti_flap") {
				return fmt.Errorf("%s: automatic failover still blocked by anti_flap", c.ID)
			}
		}
		return nil
	})
}

// ReadAudit reads c's audit log (missing file: no lines).
func (c *sidecar) ReadAudit() ([]supervisor.AuditRecord, error) {
	if _, err := os.Stat(c.Audit); os.IsNotExist(err) {
		return nil, nil
	}
	return supervisor.ReadAudit(c.Audit)
}

// AllAudit reads every sidecar's audit log.
func (s *sidecarSet) AllAudit(t testing.TB) []supervisor.AuditRecord {
	t.Helper()
	var out []supervisor.AuditRecord
	for _, c := range s.cars {
		recs, err := c.ReadAudit()
		if err != nil {
			t.Errorf("audit log of %s: %v", c.ID, err)
		}
		out = append(out, recs...)
	}
	return out
}

// LogAudit logs every sidecar's audit lines since since (drill evidence).
func (s *sidecarSet) LogAudit(t testing.TB, since time.Time) {
	t.Helper()
	var b strings.Builder
	for _, r := range s.AllAudit(t) {
		if r.Time.Before(since) {
			continue
		}
		fmt.Fprintf(&b, "  %s %s %s: %s %s -> %s (%s, %dms)\n", r.Time.Format("15:04:05.000"), r.Sidecar,
			r.Analysis.Kind, r.Decision.Action, r.Decision.Target, r.Result, r.Reason, r.DurationMs)
		for _, ev := range r.Analysis.Evidence {
			fmt.Fprintf(&b, "      evidence: %s\n", ev)
		}
	}
	if b.Len() > 0 {
		t.Logf("audit lines since %s:\n%s", since.Format("15:04:05.000"), b.String())
	}
}

// Executed are the audit lines of actions rsguard executed automatically since since.
func (s *sidecarSet) Executed(t testing.TB, since time.Time) []supervisor.AuditRecord {
	t.Helper()
	var out []supervisor.AuditRecord
	for _, r := range s.AllAudit(t) {
		if !r.Time.Before(since) && r.Actor == "auto" && r.Decision.Action != election.None &&
			r.Result != supervisor.ResultRefused && r.Result != supervisor.ResultDryRun {
			out = append(out, r)
		}
	}
	return out
}

// ByHost is the sidecar beside h's mongod (or on h for an arbiter sidecar), nil if none.
func (s *sidecarSet) ByHost(h *harness.Host) *sidecar {
	for _, c := range s.cars {
		if c.Host == h {
			return c
		}
	}
	return nil
}

// DumpStatus logs every sidecar's /v1/status (evidence for failures).
func (s *sidecarSet) DumpStatus(t testing.TB) {
	t.Helper()
	for _, c := range s.cars {
		raw, err := s.StatusJSON(context.Background(), c)
		if err != nil {
			t.Logf("%s /v1/status: %v", c.ID, err)
			continue
		}
		var buf bytes.Buffer
		if json.Indent(&buf, raw, "", " ") == nil {
			raw = buf.Bytes()
		}
		t.Logf("%s /v1/status:\n%s", c.ID, raw)
	}
}
