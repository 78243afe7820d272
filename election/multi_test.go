package election_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// TestMultiSidecar runs the scripts in testdata/multi: several sidecars, each deciding from the
// views it can see, on a fake clock, with the production defaults (election.DefaultPolicy, which
// the default configuration maps onto, and the default probe.view_max_age). Rewrite the
// expected outputs with `go test ./election -run TestMultiSidecar -rewrite`.
//
// Commands:
//
//	sidecars                 input: "ID data HOST [zone=Z]" or "ID arbiter [zone=Z]" per line
//	init primary=ID term=N [arbiter=HOST]
//	                         a healthy set: ID's mongod is PRIMARY, the others SECONDARY, every
//	                         mongod heartbeats every other (hb_ok hb=now), probes succeed
//	set ID...                input: lines "local|probe|primary|view k=v ...", "peer HOST k=v ...",
//	                         "-peer HOST", "-probe", "-primary": merged into each ID's view
//	cut A [B]                the gossip link A-B (or every link of A) is cut
//	heal [A B]               the link (or every link) is restored
//	stop ID / start ID       the sidecar process stops (no views, no decisions) or restarts
//	ack ID...                an operator acknowledges the last failover on these sidecars
//	policy k=v...            overrides a production default (only where a knob is the subject)
//	tick [DUR]               DUR (default 1s) passes in 1 s steps; every step each running sidecar
//	                         observes, gossips and decides. Prints the actions executed before the
//	                         last step, then every running sidecar's decision at the last step
//	evidence ID              the evidence behind ID's last decision
//
// Field values: times are "now" or "now-2s" (follow the clock), "@now-2s" (pinned when set) or
// "T+5s" (from the epoch); optimes are TERM/SECS[.INC]; bare keys mean true. For a peer, ok is
// the sidecar's merged verdict (its own probe overrides), hb_ok and hb the mongod's own health
// flag, lastHeartbeat and lastHeartbeatRecv for that member (replSetGetStatus, spec §3.3).
func TestMultiSidecar(t *testing.T) {
	datadriven.Walk(t, "testdata/multi", func(t *testing.T, path string) {
		var w *world
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd != "sidecars" && w == nil {
				d.Fatalf(t, "declare the sidecars first")
			}
			out, err := run(t, w, d)
			if d.Cmd == "sidecars" && err == nil {
				w, out, err = newWorld(d.Input)
			}
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			return out
		})
	})
}

func newWorld(input string) (*world, string, error) {
	def := config.Default()
	w := &world{now: epoch, sidecars: map[string]*sidecar{}, cut: map[[2]string]bool{},
		policy: election.DefaultPolicy(), maxAge: def.Probe.ViewMaxAge}
	for _, line := range strings.Split(strings.TrimSpace(input), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, "", fmt.Errorf("sidecar line %q: want ID MODE [HOST] [zone=Z]", line)
		}
		c := topology.SidecarConfig{ID: f[0], Mode: topology.Mode(f[1])}
		for _, x := range f[2:] {
			if z, ok := strings.CutPrefix(x, "zone="); ok {
				c.Zone = z
			} else {
				c.Host = x
			}
		}
		if (c.Mode == topology.ModeData) != (c.Host != "") {
			return nil, "", fmt.Errorf("sidecar line %q: a data sidecar has a host, an arbiter sidecar none", line)
		}
		w.order = append(w.order, c.ID)
		w.sidecars[c.ID] = &sidecar{cfg: c, running: true, spec: newSpec(), got: map[string]topology.MemberView{}, gotAt: map[string]time.Time{}}
	}
	p := w.policy
	return w, fmt.Sprintf("production defaults: election_quiet %s, anti_flap_window %s, fence_after %s, sick_after %s, heartbeat_fresh %s, max_lag %s, view_max_age %s\n",
		p.ElectionQuiet, p.AntiFlapWindow, p.FenceAfter, p.SickAfter, p.HeartbeatFresh, p.MaxLag, w.maxAge), nil
}

func run(t *testing.T, w *world, d *datadriven.TestData) (string, error) {
	args := func() []string {
		var a []string
		for _, c := range d.CmdArgs {
			a = append(a, c.Key)
		}
		return a
	}
	need := func(ids ...string) error {
		for _, id := range ids {
			if w.sidecars[id] == nil {
				return fmt.Errorf("unknown sidecar %q", id)
			}
		}
		return nil
	}
	switch d.Cmd {
	case "sidecars":
		return "", nil
	case "init":
		return "", w.initHealthy(t, d)
	case "set":
		ids := args()
		if err := need(ids...); err != nil {
			return "", err
		}
		for _, id := range ids {
			for _, line := range strings.Split(d.Input, "\n") {
				if err := w.sidecars[id].spec.apply(line, w.now); err != nil {
					return "", err
				}
			}
		}
		return "", nil
	case "cut", "heal":
		ids := args()
		if err := need(ids...); err != nil {
			return "", err
		}
		for _, a := range w.order {
			for _, b := range w.order {
				hit := a < b && (len(ids) == 0 || len(ids) == 1 && (a == ids[0] || b == ids[0]) ||
					len(ids) == 2 && link(a, b) == link(ids[0], ids[1]))
				if hit {
					w.cut[link(a, b)] = d.Cmd == "cut"
				}
			}
		}
		return "", nil
	case "stop", "start":
		ids := args()
		if err := need(ids...); err != nil {
			return "", err
		}
		for _, id := range ids {
			w.sidecars[id].running = d.Cmd == "start"
		}
		return "", nil
	case "ack":
		// An operator acknowledges the last failover on these sidecars (POST /v1/acknowledge).
		ids := args()
		if err := need(ids...); err != nil {
			return "", err
		}
		for _, id := range ids {
			w.sidecars[id].state = w.sidecars[id].state.Acknowledge(w.now)
		}
		return "", nil
	case "policy":
		for _, c := range d.CmdArgs {
			if c.Key == "fence_old_primary" {
				w.policy.FenceDisabled = c.SingleVal(t) == "false"
				continue
			}
			v, err := time.ParseDuration(c.SingleVal(t))
			if err != nil {
				return "", fmt.Errorf("policy %s: %w", c.Key, err)
			}
			switch c.Key {
			case "fence_after":
				w.policy.FenceAfter = v
			case "election_quiet":
				w.policy.ElectionQuiet = v
			case "heartbeat_fresh":
				w.policy.HeartbeatFresh = v
			default:
				return "", fmt.Errorf("policy %s: not overridable here", c.Key)
			}
		}
		return "", nil
	case "tick":
		return w.tick(d)
	case "evidence":
		ids := args()
		if err := need(ids...); err != nil || len(ids) != 1 {
			return "", fmt.Errorf("evidence ID: %v", err)
		}
		d := w.sidecars[ids[0]].last
		out := strings.Join(d.Analysis.Evidence, "\n") + "\n"
		if r := d.Ranking; r != nil {
			for _, c := range r.Ranked {
				out += fmt.Sprintf("candidate %s (optime %d/%d)\n", c.Host, c.OpTime.Term, c.OpTime.Secs())
			}
			for _, e := range r.Excluded {
				out += fmt.Sprintf("excluded %s: %s %s\n", e.Host, e.Reason, e.Detail)
			}
		}
		return out, nil
	}
	return "", fmt.Errorf("unknown command %q", d.Cmd)
}

func (w *world) tick(d *datadriven.TestData) (string, error) {
	total := time.Second
	if len(d.CmdArgs) > 0 {
		var err error
		if total, err = time.ParseDuration(d.CmdArgs[0].Key); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	for step := time.Duration(0); ; step += time.Second {
		if total > 0 {
			w.now = w.now.Add(min(time.Second, total-step))
		}
		if err := w.observe(); err != nil {
			return "", err
		}
		execs := w.decide()
		if step+time.Second >= total {
			break
		}
		for _, e := range execs {
			fmt.Fprintln(&b, e)
		}
	}
	fmt.Fprintf(&b, "at %s:\n", rel(w.now))
	for _, id := range w.order {
		sc := w.sidecars[id]
		if !sc.running {
			fmt.Fprintf(&b, "  %s: stopped\n", id)
			continue
		}
		fmt.Fprintf(&b, "  %s: %s\n", id, decisionLine(sc))
	}
	return b.String(), nil
}

func decisionLine(sc *sidecar) string {
	d := sc.last
	a := d.Analysis.Kind.String()
	if d.Analysis.Primary != "" {
		a += " " + d.Analysis.Primary
	}
	act := "none"
	switch {
	case !sc.executes.IsNone():
		act = sc.executes.String() + " by " + sc.cfg.ID
	case !d.Proposed.IsNone():
		act = "none, proposed " + d.Proposed.String()
	}
	return fmt.Sprintf("%s: %s [%s]", a, act, d.Reason)
}

// initHealthy writes a healthy set into every view.
func (w *world) initHealthy(t *testing.T, d *datadriven.TestData) error {
	var prim, arb string
	var term int64 = 1
	d.ScanArgs(t, "primary", &prim)
	d.MaybeScanArgs(t, "term", &term)
	d.MaybeScanArgs(t, "arbiter", &arb)
	p := w.sidecars[prim]
	if p == nil || p.cfg.Host == "" {
		return fmt.Errorf("init: primary %q is not a data sidecar", prim)
	}
	ph := p.cfg.Host
	var hosts []string
	for _, id := range w.order {
		if h := w.sidecars[id].cfg.Host; h != "" {
			hosts = append(hosts, h)
		}
	}
	for _, id := range w.order {
		sc := w.sidecars[id]
		sc.spec = newSpec()
		lines := []string{
			fmt.Sprintf("primary host=%s term=%d eid_term=%d ok", ph, term, term),
			fmt.Sprintf("probe target=%s last_ok=now lat=5ms", ph),
			fmt.Sprintf("jprobe target=%s last_ok=now lat=2ms", ph),
		}
		if sc.cfg.Mode == topology.ModeData {
			state := "SECONDARY"
			if sc.cfg.Host == ph {
				state = "PRIMARY"
			}
			lines = append(lines, fmt.Sprintf("local ok state=%s term=%d term_since=T-60s optime=%d/100 last_write=now", state, term, term))
			for _, h := range hosts {
				if h == sc.cfg.Host {
					continue
				}
				state := "SECONDARY"
				if h == ph {
					state = "PRIMARY"
				}
				lines = append(lines, fmt.Sprintf("peer %s state=%s ok hb_ok hb=now optime=%d/100", h, state, term))
			}
		} else {
			// An arbiter sidecar's own probes of the members (no mongod of its own).
			for _, h := range hosts {
				state := "SECONDARY"
				if h == ph {
					state = "PRIMARY"
				}
				lines = append(lines, fmt.Sprintf("peer %s state=%s ok hb=now optime=%d/100", h, state, term))
			}
		}
		if arb != "" {
			lines = append(lines, fmt.Sprintf("peer %s state=ARBITER ok hb_ok hb=now", arb))
		}
		for _, l := range lines {
			if err := sc.spec.apply(l, w.now); err != nil {
				return err
			}
		}
	}
	return nil
}
