package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/lab"
	"github.com/rsguard/rsguard/supervisor"
)

// Sidecar ports on each host's own loopback address: the documented defaults (config/doc.go),
// which never collide because every host has its own address.
const (
	sidecarGossipPort = lab.SidecarGossipPort
	sidecarHTTPPort   = lab.SidecarHTTPPort
	sidecarToken      = "e2e-drill-token"
)

// electionQuiet is the policy's quiet period plus scheduling slack: for this long after a term
// change the sidecars leave the set to MongoDB's own election.
var electionQuiet = election.DefaultPolicy().ElectionQuiet + 500*time.Millisecond

// sidecar is one rsguard sidecar (`supervisor run --config FILE`) started on a harness host, in
// the host's cgroup so that partitions and cleanup treat it like the host's mongod (lab.Sidecar:
// ID, Mode, Gossip, HTTP, Config, Audit, Proc).
type sidecar struct {
	*lab.Sidecar
	Host *harness.Host
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

// sidecarSet is the sidecars of one replica set (a lab.SidecarSet with test-facing methods).
type sidecarSet struct {
	t    testing.TB
	lab  *lab.SidecarSet
	cars []*sidecar
	// keyring is the set's gossip keyring file content (one fresh key per set, in every
	// sidecar's directory): sidecar configs need one (gossip_auth_test.go).
	keyring string
}

// newSidecars lays out one data sidecar beside each data host's mongod (ids node-a, node-b, ...)
// and one arbiter sidecar per arbiter host (arb-1, ...), and writes their config files into the
// hosts' directories. A host listed in arbiters may also run an arbiter mongod (PSA drill) or no
// mongod at all. Nothing is started; the sidecars are stopped when the test ends.
func newSidecars(t testing.TB, bin, set string, data, arbiters []*harness.Host, o sidecarOpts) *sidecarSet {
	t.Helper()
	if bin == "" {
		t.Skip("e2e: ./cmd/supervisor is not built yet (no supervisor binary)")
	}
	s := &sidecarSet{t: t, keyring: newGossipKeyring(t)}
	byLab := map[*lab.Host]*harness.Host{}
	var ld, la []*lab.Host
	for _, h := range data {
		byLab[h.Host] = h
		ld = append(ld, h.Host)
	}
	for _, h := range arbiters {
		byLab[h.Host] = h
		la = append(la, h.Host)
	}
	lo := s.labOpts(o, byLab)
	set0, err := lab.NewSidecarSet(bin, set, ld, la, lo)
	if err != nil {
		t.Fatal(err)
	}
	s.lab = set0
	for _, c := range set0.Cars {
		s.cars = append(s.cars, &sidecar{Sidecar: c, Host: byLab[c.Host]})
	}
	return s
}

// labOpts maps the test's options onto lab's, with the set's keyring and token.
func (s *sidecarSet) labOpts(o sidecarOpts, byLab map[*lab.Host]*harness.Host) lab.SidecarOptions {
	lo := lab.SidecarOptions{ReplicaSet: o.ReplicaSet, FailoverDisabled: o.FailoverDisabled, Seeds: o.Seeds,
		Extra: o.Extra, Keyring: s.keyring, Token: sidecarToken}
	if o.HostExtra != nil {
		lo.HostExtra = func(h *lab.Host) string {
			if hh := byLab[h]; hh != nil {
				return o.HostExtra(hh)
			}
			return o.HostExtra(&harness.Host{Host: h})
		}
	}
	return lo
}

func (s *sidecarSet) hostMap() map[*lab.Host]*harness.Host {
	m := map[*lab.Host]*harness.Host{}
	for _, c := range s.cars {
		m[c.Sidecar.Host] = c.Host
	}
	return m
}

// yaml renders c's config file.
func (s *sidecarSet) yaml(c *sidecar, o sidecarOpts) string {
	return s.lab.YAML(c.Sidecar, s.labOpts(o, s.hostMap()))
}

func (s *sidecarSet) writeConfig(c *sidecar, o sidecarOpts) error {
	return s.lab.WriteConfig(c.Sidecar, s.labOpts(o, s.hostMap()))
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
			if err := s.lab.Reload(c.Sidecar); err != nil {
				t.Fatal(err)
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

// StartOne starts (or restarts) one sidecar on its host; it is stopped when the test ends.
func (s *sidecarSet) StartOne(t testing.TB, c *sidecar) {
	t.Helper()
	if err := s.lab.Start(c.Sidecar); err != nil {
		t.Fatal(err)
	}
}

// Ready asks /readyz: (HTTP status, body).
func (s *sidecarSet) Ready(ctx context.Context, c *sidecar) (int, string, error) {
	return s.lab.Ready(ctx, c.Sidecar)
}

// Status fetches /v1/status.
func (s *sidecarSet) Status(ctx context.Context, c *sidecar) (supervisor.StatusReport, error) {
	return s.lab.Status(ctx, c.Sidecar)
}

// api is the sidecar's API client (the one /v1 client), over the set's HTTP client.
func (s *sidecarSet) api(c *sidecar, token string) *apiclient.Client {
	cl, err := s.lab.API(c.Sidecar, token)
	if err != nil {
		panic(err) // the lab chose the address
	}
	return cl
}

// StatusJSON fetches /v1/status as raw JSON (for evidence in failure messages).
func (s *sidecarSet) StatusJSON(ctx context.Context, c *sidecar) ([]byte, error) {
	return s.lab.StatusJSON(ctx, c.Sidecar)
}

// WaitReady waits until every running sidecar answers /readyz 200.
func (s *sidecarSet) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	if err := s.lab.WaitReady(context.Background(), timeout); err != nil {
		t.Fatalf("%v", err)
	}
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
