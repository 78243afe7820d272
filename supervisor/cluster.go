package supervisor

import (
	"fmt"
	"slices"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// Cluster answers GET /v1/cluster: the whole set as this sidecar sees it, with a health verdict
// a script can act on (`supervisor status` exits by it) and why automatic failover would not act.
func (s *Supervisor) Cluster() api.Cluster {
	views := s.gossip.Views()
	settled := s.gossip.Settled()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.snapshotLocked(views, now)
	a := s.decision.Decision.Analysis
	rows := membersTable(snap, a)
	c := api.Cluster{Time: now, Set: s.cfg.ReplicaSet, Sidecar: s.id, Coordinator: snap.Coordinator(),
		Quorum: api.Quorum{Configured: len(snap.Members), Needed: snap.Majority(), Visible: snap.VisibleSidecars(),
			Has: snap.HasQuorum()},
		Analysis: api.Analysis{Kind: a.Kind.String(), Primary: a.Primary, Evidence: a.Evidence},
		Members:  []api.Member{}, Sidecars: []api.Sidecar{}, Problems: []string{}}
	if c.Quorum.Visible == nil {
		c.Quorum.Visible = []string{}
	}
	for _, r := range rows {
		if r.Host == "" {
			continue // an arbiter sidecar: listed with the sidecars
		}
		c.Members = append(c.Members, clusterMember(r, snap, a))
	}
	for _, m := range snap.Members {
		sc := api.Sidecar{ID: m.ID, Mode: string(m.Mode), Mongod: m.Host, AgeSecs: -1}
		if v, ok := snap.Views[m.ID]; ok {
			sc.AgeSecs = v.Age.Seconds()
			sc.Alive = snap.Visible(m.ID)
			sc.Ready = sc.Alive && !v.View.NotReady
		}
		if m.ID == s.id {
			sc.Alive, sc.Ready, sc.AgeSecs = true, len(s.readinessLocked(settled)) == 0, 0
		}
		c.Sidecars = append(c.Sidecars, sc)
	}
	for _, m := range c.Members {
		if m.State == "PRIMARY" && m.Healthy {
			c.Primary = m.Host
		}
	}
	if c.Primary != "" && c.Primary == a.Primary {
		c.Term = a.Term
	}
	mem := s.state.Memory
	if p := mem.Pause; p.Paused {
		c.Paused = &api.Pause{By: p.By, At: p.At, Why: p.Why}
	}
	if f := s.state.LastFailover; !f.At.IsZero() {
		c.LastFailover = &api.Failover{At: f.At, To: f.To, Reason: string(f.Reason), By: mem.Failovers[f.Incident.Key()].By}
	}
	c.AutomaticFailover = api.Automatic{Enabled: s.policy.Enabled && !s.policy.DryRun,
		Blocked: s.blockedReasonsLocked(snap.HasQuorum(), settled)}
	if p := s.rs.plan; p != nil {
		c.Resync = &api.Resync{Member: p.Member, Phase: string(p.Step), Percent: -1, Reason: string(p.Reason), By: s.id}
		if pr := p.Progress; pr.TotalBytes > 0 {
			c.Resync.Percent = min(100, 100*float64(pr.BytesCopied)/float64(pr.TotalBytes))
		}
	} else if h := election.ResyncHolder(mem, "", now); h != "" {
		c.Resync = &api.Resync{Member: h, Phase: "running", Percent: -1}
		for _, r := range mem.Resyncs {
			if r.Member == h && r.Active(now) {
				c.Resync.By = r.By
			}
		}
	}
	c.Requests = requestsNewestFirst(mem, now)
	c.Health, c.Problems = clusterHealth(c, s.cfg.Failover.Candidates.MaxLag.Seconds())
	return c
}

// Reasons automatic failover is blocked (the failover_blocked gauge's label values).
const (
	blockedPaused   = "operator_paused"
	blockedAntiFlap = "anti_flap"
	blockedQuorum   = "no_quorum"
	blockedDisabled = "failover_disabled"
	blockedDryRun   = "dry_run"
	blockedNotReady = "not_ready"
)

var blockedReasons = []string{blockedPaused, blockedAntiFlap, blockedQuorum, blockedDisabled, blockedDryRun, blockedNotReady}

func (s *Supervisor) blockedReasonsLocked(quorum, settled bool) []string {
	var b []string
	if s.state.Paused() {
		b = append(b, blockedPaused)
	}
	if s.now().Before(antiFlapUntil(s.state, s.policy)) {
		b = append(b, blockedAntiFlap)
	}
	if !quorum {
		b = append(b, blockedQuorum)
	}
	if !s.policy.Enabled {
		b = append(b, blockedDisabled)
	}
	if s.policy.DryRun {
		b = append(b, blockedDryRun)
	}
	if len(s.readinessLocked(settled)) > 0 {
		b = append(b, blockedNotReady)
	}
	return b
}

// clusterMember turns a members-table row into the API's member, with the member's own
// sidecar's report of its configuration.
func clusterMember(r MemberRow, snap topology.Snapshot, a election.Analysis) api.Member {
	m := api.Member{Host: r.Host, Sidecar: r.Sidecar, State: r.State, LagSecs: r.LagSeconds,
		SeenBy: []string{}, UnseenBy: []string{}}
	if m.State == "" {
		m.State = "UNKNOWN"
	}
	for id, seen := range r.SeenBy {
		switch seen.Reach {
		case "yes":
			m.SeenBy = append(m.SeenBy, id)
		case "no":
			m.UnseenBy = append(m.UnseenBy, id)
		}
	}
	slices.Sort(m.SeenBy)
	slices.Sort(m.UnseenBy)
	own := false
	if v, ok := snap.View(r.Sidecar); ok && r.Sidecar != "" && v.Local.Host == r.Host {
		own = true
		m.Priority, m.Votes, m.Hidden = v.Local.Priority, v.Local.Votes, v.Local.Hidden
		m.Healthy = v.Local.Reachable && snap.Visible(r.Sidecar)
	}
	if !own {
		// No fresh word from its own sidecar: healthy when the others reach it.
		m.Healthy = len(m.SeenBy) > 0 && len(m.SeenBy) >= len(m.UnseenBy)
	}
	if r.stateNum == topology.StateArbiter {
		m.Arbiter = true
	}
	if !m.Healthy && (m.State == "PRIMARY" || m.State == "SECONDARY") {
		// Its last known state, but it does not answer: never show a dead member as a second
		// PRIMARY.
		m.State = "DOWN"
	}
	if a.Primary == r.Host && a.Kind != election.Healthy {
		m.Class = a.Kind.String()
	}
	return m
}

// clusterHealth grades the set: critical without a writable primary or a sidecar quorum,
// degraded when anything else an operator should look at is wrong.
func clusterHealth(c api.Cluster, maxLag float64) (string, []string) {
	var crit, deg []string
	if c.Primary == "" {
		crit = append(crit, "no writable primary")
	}
	if !c.Quorum.Has {
		crit = append(crit, fmt.Sprintf("no sidecar quorum: %d of %d visible, %d needed", len(c.Quorum.Visible), c.Quorum.Configured, c.Quorum.Needed))
	}
	for _, m := range c.Members {
		switch {
		case !m.Healthy:
			deg = append(deg, fmt.Sprintf("member %s is %s", m.Host, m.State))
		case maxLag > 0 && m.LagSecs > maxLag:
			deg = append(deg, fmt.Sprintf("member %s lags %.1fs behind the primary", m.Host, m.LagSecs))
		}
	}
	for _, sc := range c.Sidecars {
		switch {
		case !sc.Alive:
			deg = append(deg, "sidecar "+sc.ID+" is not visible")
		case !sc.Ready:
			deg = append(deg, "sidecar "+sc.ID+" is not ready")
		}
	}
	if c.Paused != nil {
		deg = append(deg, "automatic actions are paused by "+c.Paused.By)
	}
	for _, b := range c.AutomaticFailover.Blocked {
		if b != blockedPaused && b != blockedQuorum {
			deg = append(deg, "automatic failover is blocked: "+b)
		}
	}
	if c.Resync != nil {
		deg = append(deg, "member "+c.Resync.Member+" is resyncing")
	}
	switch {
	case len(crit) > 0:
		return api.HealthCritical, append(crit, deg...)
	case len(deg) > 0:
		return api.HealthDegraded, deg
	}
	return api.HealthHealthy, []string{}
}
