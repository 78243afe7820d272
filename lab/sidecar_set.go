package lab

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/supervisor"
)

// SidecarSet is the sidecars of one replica set: one data sidecar beside each data host's mongod
// (ids node-a, node-b, ...) and one arbiter sidecar per arbiter host. Close stops them all.
type SidecarSet struct {
	Set  string
	Bin  string // the supervisor binary
	Cars []*Sidecar

	opts SidecarOptions
	http *http.Client
}

// NewSidecarSet lays out the sidecars and writes their config files, keyring and tokens; nothing
// is started. A host in arbiters may run an arbiter mongod or no mongod at all.
func NewSidecarSet(bin, set string, data, arbiters []*Host, o SidecarOptions) (*SidecarSet, error) {
	if bin == "" {
		return nil, errors.New("sidecars: no supervisor binary")
	}
	o = o.withDefaults()
	if o.Keyring == "" {
		k, err := NewKeyring("rsguard lab sidecar set gossip key")
		if err != nil {
			return nil, err
		}
		o.Keyring = k
	}
	if o.Token == "" {
		tok, err := newToken()
		if err != nil {
			return nil, err
		}
		o.Token = tok
	}
	s := &SidecarSet{Set: set, Bin: bin, opts: o, http: &http.Client{Timeout: 2 * time.Second}}
	for i, h := range data {
		c, err := layout(o, "node-"+string(rune('a'+i)), ModeData, h)
		if err != nil {
			return nil, err
		}
		s.Cars = append(s.Cars, c)
	}
	for i, h := range arbiters {
		c, err := layout(o, o.ArbiterID(i), ModeArbiter, h)
		if err != nil {
			return nil, err
		}
		s.Cars = append(s.Cars, c)
	}
	for _, c := range s.Cars {
		if err := s.WriteConfig(c, o); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Options are the options the configs were written with (defaults filled in).
func (s *SidecarSet) Options() SidecarOptions { return s.opts }

// YAML renders c's config file with o (the set's keyring and token stay).
func (s *SidecarSet) YAML(c *Sidecar, o SidecarOptions) string {
	return SidecarYAML(s.Set, c, s.Cars, o)
}

// WriteConfig (re)writes c's config file with o, and its keyring and token files unless they
// exist.
func (s *SidecarSet) WriteConfig(c *Sidecar, o SidecarOptions) error {
	for _, d := range []string{filepath.Dir(c.Config), c.StateDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("sidecar %s: %w", c.ID, err)
		}
	}
	if err := writeNew(c.Keyring, s.opts.Keyring); err != nil {
		return fmt.Errorf("sidecar %s: gossip keyring: %w", c.ID, err)
	}
	if err := writeNew(c.TokenFile, s.opts.Token+"\n"); err != nil {
		return fmt.Errorf("sidecar %s: admin token: %w", c.ID, err)
	}
	if err := os.WriteFile(c.Config, []byte(s.YAML(c, o)), 0o644); err != nil {
		return fmt.Errorf("sidecar %s: %w", c.ID, err)
	}
	return nil
}

// writeNew creates path (0600) with text unless it exists.
func writeNew(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		_ = f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// NewKeyring is a keyring file's content: a comment line and one fresh random 32-byte key.
func NewKeyring(comment string) (string, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return "", fmt.Errorf("gossip keyring: %w", err)
	}
	return "# " + comment + "\n" + base64.StdEncoding.EncodeToString(k) + "\n", nil
}

func newToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Token is the set's admin token as written (a file that existed before may hold another).
func (s *SidecarSet) Token(c *Sidecar) (string, error) {
	b, err := os.ReadFile(c.TokenFile)
	if err != nil {
		return "", fmt.Errorf("sidecar %s: admin token: %w", c.ID, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Start starts (or restarts) c on its host: `supervisor run --config FILE`.
func (s *SidecarSet) Start(c *Sidecar) error {
	if c.Running() {
		return fmt.Errorf("sidecar %s is already running (pid %d)", c.ID, c.Proc.Pid())
	}
	if c.Proc == nil {
		out, errp := c.Output, c.Output
		if out == "" {
			out = filepath.Join(c.Host.Dir, "sidecar-"+c.ID+".stdout")
			errp = filepath.Join(c.Host.Dir, "sidecar-"+c.ID+".stderr")
		}
		c.Proc = &Proc{Name: "sidecar-" + c.ID, Path: s.Bin, Args: []string{"run", "--config", c.Config},
			StdoutPath: out, StderrPath: errp}
	}
	if err := c.Host.Spawn(c.Proc); err != nil {
		return fmt.Errorf("start sidecar %s: %w", c.ID, err)
	}
	return nil
}

// StartAll starts every sidecar.
func (s *SidecarSet) StartAll() error {
	for _, c := range s.Cars {
		if err := s.Start(c); err != nil {
			return err
		}
	}
	return nil
}

// Stop asks c to leave the gossip cluster cleanly (SIGTERM), then kills it after grace.
func (s *SidecarSet) Stop(c *Sidecar, grace time.Duration) error {
	if !c.Running() {
		return nil
	}
	if err := c.Proc.Stop(grace); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	return nil
}

// Close stops every sidecar at once (SIGTERM, 3s grace, then SIGKILL); it is idempotent.
func (s *SidecarSet) Close() error {
	errs := make(chan error, len(s.Cars))
	for _, c := range s.Cars {
		go func() { errs <- s.Stop(c, 3*time.Second) }()
	}
	var all []error
	for range s.Cars {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// Reload SIGHUPs c (probe, failover and log.level are reloadable).
func (s *SidecarSet) Reload(c *Sidecar) error {
	if err := c.Proc.Signal(syscall.SIGHUP); err != nil {
		return fmt.Errorf("SIGHUP sidecar %s: %w", c.ID, err)
	}
	return nil
}

// ByHost is the sidecar on h (beside its mongod, or the arbiter sidecar on it), nil if none.
func (s *SidecarSet) ByHost(h *Host) *Sidecar {
	for _, c := range s.Cars {
		if c.Host == h {
			return c
		}
	}
	return nil
}

// ByID is the sidecar with that id, nil if none.
func (s *SidecarSet) ByID(id string) *Sidecar {
	for _, c := range s.Cars {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// API is c's /v1 client over the set's HTTP client.
func (s *SidecarSet) API(c *Sidecar, token string) (*apiclient.Client, error) {
	cl, err := apiclient.New(apiclient.Options{Addr: c.HTTP, Token: token, HTTPClient: s.http})
	if err != nil {
		return nil, fmt.Errorf("sidecar %s: http address %q: %w", c.ID, c.HTTP, err)
	}
	return cl, nil
}

// Ready asks /readyz: (HTTP status, body).
func (s *SidecarSet) Ready(ctx context.Context, c *Sidecar) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base()+"/readyz", nil)
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

// StatusJSON fetches /v1/status as raw JSON.
func (s *SidecarSet) StatusJSON(ctx context.Context, c *Sidecar) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	cl, err := s.API(c, "")
	if err != nil {
		return nil, err
	}
	raw, err := cl.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.ID, err)
	}
	return raw, nil
}

// Status fetches and decodes /v1/status.
func (s *SidecarSet) Status(ctx context.Context, c *Sidecar) (supervisor.StatusReport, error) {
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

// WaitReady waits until every running sidecar answers /readyz 200 (a stopped one is skipped:
// drills stop sidecars on purpose).
func (s *SidecarSet) WaitReady(ctx context.Context, timeout time.Duration) error {
	return s.waitReady(ctx, timeout, false)
}

// WaitStarted is WaitReady for a set just started: a sidecar that exited (a config it refused,
// a port taken) ends the wait at once with the last lines of its output.
func (s *SidecarSet) WaitStarted(ctx context.Context, timeout time.Duration) error {
	return s.waitReady(ctx, timeout, true)
}

func (s *SidecarSet) waitReady(ctx context.Context, timeout time.Duration, exitIsError bool) error {
	err := Poll(ctx, timeout, func(ctx context.Context) error {
		for _, c := range s.Cars {
			if !c.Running() {
				if exitIsError && c.Proc != nil {
					return Abort(fmt.Errorf("sidecar %s exited:\n%s", c.ID, c.Proc.Tail(15)))
				}
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
	if err != nil {
		return fmt.Errorf("waiting %v for every sidecar ready: %w", timeout, err)
	}
	return nil
}
