package supervisor

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/topology"
)

// Config agreement (issue 8, deliverable 3). Every sidecar gossips the fingerprint of the keys the
// set must agree on (config.Agreement: replica_set, members, the failover policy and the probe
// thresholds the election core judges by) in MemberView.Cfg. A sidecar that sees a visible peer
// whose fingerprint differs in a key both know is not ready, with the reason
//
//	config drift with node-c: failover.anti_flap_window (fingerprint ... here, ... on node-c; ...)
//
// on /readyz, in /v1/status (not_ready and config_agreement), as the gauge
// rsguard_supervisor_config_drift{peer}, and logged once per change.
//
// One drifted sidecar makes every sidecar that sees it not ready, itself included: the rule is
// symmetric, so with one odd file in a set of three, all three stop acting. That is the
// conservative choice on purpose. rsguard cannot tell which file is the intended one (the odd one
// may be the first of a rollout), a vote between files would be home-made consensus, and a
// disagreement on members means two sidecars count different majorities, while a disagreement on
// the policy means the set's behaviour depends on which sidecar happens to coordinate. Not acting
// is always safe: MongoDB still elects a primary on its own; rsguard only stops speeding it up
// until an operator fixes the files, and /readyz failing on every sidecar makes sure one is told.
// A sidecar that only sees agreeing peers (a drifted one is out of its sight) stays ready: the
// drifted sidecar is then not in its quorum either.
//
// A sidecar whose only reason not to be ready is drift still gossips (its view marked NotReady,
// so it never coordinates): otherwise a drifted sidecar that saw the drift before its first
// publication would stay invisible, and its peers would never learn of the drift.
//
// Only the fingerprint travels while all agree (16 hex digits per view); a sidecar that sees a
// peer with another fingerprint adds its per-key digests to its view from then on, and until the
// peer's digests arrive (one push later) the reason says the keys are not known yet.
//
// Hot reload: SIGHUP reloads probe and failover keys, and the new fingerprint goes out with the
// next push. A rolling reload therefore makes the set not ready from the first sidecar reloaded
// to the last (seconds if the files are pushed together); reload every sidecar at once. A key
// only one side digests (peers on different rsguard releases during an upgrade) is not compared.

// configDrift is this sidecar's fingerprint and what comparing it with its peers' found.
type configDrift struct {
	self    string
	agree   config.Agreement
	print   topology.ConfigPrint
	peers   map[string]peerDrift // visible peers whose agreed keys differ
	reasons []string             // readiness reasons, by peer id
	// wantKeys: a visible peer has another fingerprint, so the per-key digests are gossiped.
	wantKeys bool
	gauge    *prometheus.GaugeVec
	info     *prometheus.GaugeVec
}

type peerDrift struct {
	keys []string // nil while the peer's digests are not known yet
	sum  string
}

func newConfigDrift(cfg *config.Config, reg prometheus.Registerer) *configDrift {
	f := promauto.With(reg)
	d := &configDrift{
		self:  cfg.ID,
		peers: map[string]peerDrift{},
		gauge: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rsguard_supervisor_config_drift",
			Help: "1 while the peer's gossiped configuration fingerprint differs from this sidecar's in a key the set must agree on (the sidecar is then not ready).",
		}, []string{"peer"}),
		info: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rsguard_supervisor_config_fingerprint_info",
			Help: "Always 1, labelled with this sidecar's fingerprint of the keys the set must agree on: every sidecar of a set should show the same.",
		}, []string{"fingerprint"}),
	}
	for _, m := range cfg.Peers() {
		d.gauge.WithLabelValues(m.ID).Set(0)
	}
	d.setConfig(cfg)
	return d
}

// setConfig recomputes the fingerprint (at start and after a reload).
func (d *configDrift) setConfig(cfg *config.Config) {
	d.agree = cfg.Agreement()
	d.print = topology.ConfigPrint{Sum: d.agree.Sum, Keys: maps.Clone(d.agree.Keys)}
	d.info.Reset()
	d.info.WithLabelValues(d.agree.Sum).Set(1)
}

// viewPrint is what this sidecar gossips: the fingerprint, and the per-key digests while some
// peer's fingerprint differs.
func (d *configDrift) viewPrint() topology.ConfigPrint {
	if d.wantKeys {
		return d.print
	}
	return topology.ConfigPrint{Sum: d.print.Sum}
}

// compare finds the visible peers whose fingerprint differs in a key both know, or whose
// fingerprint differs and whose digests have not arrived yet.
func (d *configDrift) compare(snap topology.Snapshot) map[string]peerDrift {
	out := map[string]peerDrift{}
	d.wantKeys = false
	for _, id := range snap.VisibleSidecars() {
		v, ok := snap.View(id)
		if id == d.self || !ok || v.Cfg.IsZero() || v.Cfg.Sum == d.print.Sum {
			continue
		}
		d.wantKeys = true
		if len(v.Cfg.Keys) == 0 {
			out[id] = peerDrift{sum: v.Cfg.Sum}
			continue
		}
		if keys := config.DriftKeys(d.print.Keys, v.Cfg.Keys); len(keys) > 0 {
			out[id] = peerDrift{keys: keys, sum: v.Cfg.Sum}
		}
	}
	return out
}

// updateDriftLocked compares this sidecar's fingerprint with every visible peer's, and updates
// the readiness reasons, the gauges and the log on a change.
func (s *Supervisor) updateDriftLocked(snap topology.Snapshot) {
	d := s.drift
	next := d.compare(snap)
	for id, pd := range next {
		if old, ok := d.peers[id]; pd.keys != nil && (!ok || !slices.Equal(old.keys, pd.keys) || old.sum != pd.sum) {
			s.logger.Warn("config drift: not ready until the files agree", "peer", id, "keys", pd.keys,
				"fingerprint", d.print.Sum, "peer_fingerprint", pd.sum)
		}
		d.gauge.WithLabelValues(id).Set(1)
	}
	for id := range d.peers {
		if _, still := next[id]; !still {
			s.logger.Info("config agrees with peer again (or the peer is out of sight)", "peer", id, "fingerprint", d.print.Sum)
			d.gauge.WithLabelValues(id).Set(0)
		}
	}
	d.peers = next
	d.reasons = nil
	for _, id := range slices.Sorted(maps.Keys(next)) {
		pd := next[id]
		keys := strings.Join(pd.keys, ", ")
		if pd.keys == nil {
			keys = "keys not known yet"
		}
		d.reasons = append(d.reasons, fmt.Sprintf("config drift with %s: %s (fingerprint %s here, %s on %s; compare the files with `supervisor validate-config`)",
			id, keys, d.print.Sum, pd.sum, id))
	}
}

// onlyDrift reports whether every readiness reason is config drift: such a sidecar still
// publishes its view (marked NotReady), so that its peers see the drift too.
func (s *Supervisor) onlyDriftLocked(reasons []string) bool {
	return len(reasons) > 0 && len(reasons) == len(s.drift.reasons)
}

// AgreementStatus is the config-agreement part of the status report.
type AgreementStatus struct {
	// Fingerprint is this sidecar's config.Agreement Sum; every sidecar of a set should show the same.
	Fingerprint string `json:"fingerprint"`
	// Drift lists the visible peers whose fingerprint differs, with the keys.
	Drift []PeerDrift `json:"drift,omitempty"`
}

// PeerDrift is one peer whose agreed keys differ from this sidecar's.
type PeerDrift struct {
	Peer        string   `json:"peer"`
	Keys        []string `json:"keys"`
	Fingerprint string   `json:"fingerprint"`
}

func (d *configDrift) status() AgreementStatus {
	st := AgreementStatus{Fingerprint: d.print.Sum}
	for _, id := range slices.Sorted(maps.Keys(d.peers)) {
		pd := d.peers[id]
		st.Drift = append(st.Drift, PeerDrift{Peer: id, Keys: slices.Clone(pd.keys), Fingerprint: pd.sum})
	}
	return st
}
