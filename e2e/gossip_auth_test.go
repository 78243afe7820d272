package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// newGossipKeyring is a keyring file's content with one fresh random 32-byte key.
func newGossipKeyring(t testing.TB) string {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return "# e2e sidecar set gossip key\n" + base64.StdEncoding.EncodeToString(k) + "\n"
}

// rogue is a memberlist node that is not a sidecar: it speaks memberlist on its own 127.0.0.N
// address, without the sidecars' key (keyring nil) or with another one. It plays the attacker of
// issue 8, deliverable 10, so it uses memberlist directly, not the heartbeat package.
func newRogue(t *testing.T, name, addr string, port int, keyring []byte) *memberlist.Memberlist {
	t.Helper()
	c := memberlist.DefaultLANConfig()
	c.Name, c.BindAddr, c.BindPort, c.AdvertiseAddr, c.AdvertisePort = name, addr, port, addr, port
	c.Label = "rs0" // the sidecars' label: the key is what must keep it out
	c.TCPTimeout = time.Second
	c.Logger = log.New(io.Discard, "", 0)
	if keyring != nil {
		kr, err := memberlist.NewKeyring(nil, keyring)
		if err != nil {
			t.Fatal(err)
		}
		c.Keyring = kr
	}
	ml, err := memberlist.Create(c)
	if err != nil {
		t.Fatalf("rogue %s on %s:%d: %v", name, addr, port, err)
	}
	t.Cleanup(func() { _ = ml.Shutdown() })
	return ml
}

// forgedView is a heartbeat message (heartbeat/views.go wire format: version byte 1, then the
// envelope as JSON) in which sidecar origin, sent by from, says the primary is unreachable:
// two of them from different ids would be a quorum that the primary is dead.
func forgedView(t *testing.T, from, origin, ownHost, primary string, term int64) []byte {
	t.Helper()
	v := topology.MemberView{SidecarID: origin, Mode: topology.ModeData, ObservedAt: time.Now(),
		Local:   topology.LocalView{Host: ownHost, Reachable: true, State: topology.StateSecondary, Term: term},
		Primary: topology.PrimarySeen{Host: primary, Term: term, Reachable: false},
		Peers:   []topology.PeerSeen{{Host: primary, State: topology.StateDown, Healthy: false}}}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	env, err := json.Marshal(map[string]any{"f": from, "o": origin, "g": time.Now().UnixNano(),
		"s": uint64(1 << 40), "v": json.RawMessage(raw), "m": base64.StdEncoding.EncodeToString(make([]byte, 32))})
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{1}, env...)
}

// TestGossipAuthentication: nobody outside the sidecars gets a vote (issue 8, deliverable 10).
//
//   - Three sidecars run with a keyring. Two rogue memberlist nodes on another loopback address,
//     one without a key and one with a wrong key, try to join the sidecars' gossip and, for a
//     while, push forged views (direct and relayed) in the names of the two secondaries' sidecars
//     saying the primary is unreachable: a forged quorum. Neither ever becomes a member, the
//     forged views never count (every sidecar keeps a healthy analysis, nobody reports the primary
//     unreachable) and nothing is executed.
//   - A sidecar whose config names no keyring exits at once with the file, line and key.
func TestGossipAuthentication(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	d := newDrillSet(t, 3, 0, 1)
	defer d.c.Timeline.Log(t)
	cars := newSidecars(t, supBin, "rs0", d.data, nil, sidecarOpts{})
	cars.Start(t)
	defer killSidecars(cars)
	cars.WaitSettled(t, drillSettleTimeout)
	ctx := context.Background()
	p := d.WaitHealthy(t, drillRejoinTimeout)
	pr, err := cars.Status(ctx, cars.ByHost(p))
	if err != nil {
		t.Fatal(err)
	}
	term := pr.Local.Term

	rogueAddr := d.bare[0].Addr
	wrongKey := make([]byte, 32)
	if _, err := rand.Read(wrongKey); err != nil {
		t.Fatal(err)
	}
	rogues := []*memberlist.Memberlist{
		newRogue(t, "rogue-nokey", rogueAddr, sidecarGossipPort, nil),
		newRogue(t, "rogue-wrongkey", rogueAddr, sidecarGossipPort+1, wrongKey),
	}
	var seeds []string
	var targets []*memberlist.Node
	var forged [][]byte
	var secondaries []*sidecar
	for _, c := range cars.cars {
		seeds = append(seeds, c.Gossip)
		targets = append(targets, &memberlist.Node{Name: c.ID, Addr: net.ParseIP(c.Host.Addr), Port: uint16(sidecarGossipPort)})
		if c.Host != p {
			secondaries = append(secondaries, c)
		}
	}
	for i, c := range secondaries {
		other := secondaries[1-i]
		forged = append(forged,
			forgedView(t, c.ID, c.ID, c.Host.HostPort(), p.HostPort(), term),     // direct
			forgedView(t, other.ID, c.ID, c.Host.HostPort(), p.HostPort(), term)) // relayed
	}
	d.c.Timeline.Mark("rogues on %s join and push forged views of %s and %s (primary %s unreachable)",
		rogueAddr, secondaries[0].ID, secondaries[1].ID, p)
	for _, r := range rogues {
		if n, err := r.Join(seeds); n > 0 || err == nil {
			t.Errorf("%s joined %d sidecars (err %v)", r.LocalNode().Name, n, err)
		}
	}
	t0 := time.Now()
	push := func() {
		for _, r := range rogues {
			for _, to := range targets {
				for _, m := range forged {
					_ = r.SendBestEffort(to, m)
					_ = r.SendReliable(to, m)
				}
			}
		}
	}
	holdWhile(t, 10*time.Second, "rogues pushing forged views", func(ctx context.Context) error {
		push()
		for _, r := range rogues {
			if _, err := r.Join(seeds[:1]); err == nil || r.NumMembers() != 1 {
				return fmt.Errorf("%s got in: %d members", r.LocalNode().Name, r.NumMembers())
			}
		}
		for _, c := range cars.cars {
			r, err := cars.Status(ctx, c)
			if err != nil {
				return err
			}
			for _, m := range r.Gossip.Members {
				if strings.HasPrefix(m.ID, "rogue") || strings.HasPrefix(m.Addr, rogueAddr+":") {
					return fmt.Errorf("%s lists %s (%s) as a gossip member", c.ID, m.ID, m.Addr)
				}
			}
			if r.Analysis.Kind != election.Healthy {
				return fmt.Errorf("%s: analysis %s (reason %s) under forged views", c.ID, r.Analysis.Kind, r.Decision.Reason)
			}
			for _, row := range r.Members {
				if row.Host != p.HostPort() {
					continue
				}
				for by, seen := range row.SeenBy {
					if seen.Reach == "no" {
						return fmt.Errorf("%s: sidecar %s reportedly cannot reach the primary %s: a forged view counted", c.ID, by, p)
					}
				}
			}
		}
		if ex := cars.Executed(t, t0); len(ex) > 0 {
			return fmt.Errorf("a sidecar acted on forged views: %s", describeActions(ex, t0))
		}
		return nil
	})
	d.c.Timeline.Mark("rogues never joined; forged views never counted")

	// A config without gossip.keyring_file: the sidecar refuses to start, naming file:line: key.
	c := cars.cars[0]
	noKey := regexp.MustCompile(`(?m)^  keyring_file: .*\n`).ReplaceAllString(cars.yaml(c, sidecarOpts{}), "")
	path := filepath.Join(t.TempDir(), "no-keyring.yaml")
	if err := os.WriteFile(path, []byte(noKey), 0o644); err != nil {
		t.Fatal(err)
	}
	line := 1 + slices.Index(strings.Split(noKey, "\n"), "gossip:")
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(rctx, supBin, "run", "--config", path).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("sidecar without a keyring: %v (want exit 2); output:\n%s", err, out)
	}
	want := fmt.Sprintf("%s:%d:1: gossip.keyring_file: is required", path, line)
	if !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), "gossip.insecure: true") {
		t.Errorf("sidecar without a keyring: output does not start with %q:\n%s", want, out)
	}
	t.Logf("no keyring: exit 2, %s", strings.SplitN(string(out), "\n", 2)[0])
}
