package mongo

import (
	"context"
	"time"

	"github.com/rsguard/rsguard/topology"
)

// Observation is one round of reads from the local mongod: the inputs of a sidecar's MemberView.
type Observation struct {
	Host   string // the address dialled, used when hello has no "me" yet
	Hello  Hello
	Status Status
	Config ReplConfig
	// HasConfig is false for members without a config (STARTUP, REMOVED): Config is then empty.
	HasConfig bool
}

// Observe reads hello, replSetGetStatus and, when the member has a config, replSetGetConfig.
// The first failure ends the round; Classify tells refused from timeout.
func Observe(ctx context.Context, n Node) (Observation, error) {
	o := Observation{Host: n.Addr()}
	var err error
	if o.Hello, err = n.Hello(ctx); err != nil {
		return o, err
	}
	if o.Status, err = n.Status(ctx); err != nil {
		return o, err
	}
	switch o.Status.MyState {
	case topology.StateStartup, topology.StateRemoved:
		return o, nil
	}
	if o.Config, err = n.Config(ctx); err != nil {
		return o, err
	}
	o.HasConfig = true
	return o, nil
}

// Self is this member's host as the set knows it: hello "me", else the self entry of
// replSetGetStatus, else the dialled address.
func (o Observation) Self() string {
	if o.Hello.Me != "" {
		return o.Hello.Me
	}
	if m, ok := o.Status.Self(); ok && m.Name != "" {
		return m.Name
	}
	return o.Host
}

// LocalView maps the observation to the sidecar's first-hand view of its mongod. FrozenUntil is
// not visible in these replies; the caller fills it from its own records.
func (o Observation) LocalView() topology.LocalView {
	s := o.Status
	v := topology.LocalView{
		Host:      o.Self(),
		Reachable: true,
		State:     s.MyState,
		Term:      s.Term,
		OpTime:    s.Applied,
		LastWrite: o.Hello.LastWrite.Date,
	}
	if self, ok := s.Self(); ok {
		if v.OpTime.IsNull() {
			v.OpTime = self.OpTime
		}
		v.ConfigVersion, v.ConfigTerm = self.ConfigVersion, self.ConfigTerm
	}
	if v.ConfigVersion <= 0 && o.HasConfig {
		v.ConfigVersion, v.ConfigTerm = o.Config.Version, o.Config.Term
	}
	if v.LastWrite.IsZero() {
		v.LastWrite = s.AppliedWall
	}
	if c := s.ElectionCandidate; c != nil {
		v.Candidate = s.MyState != topology.StatePrimary
		if c.Term == s.Term {
			v.TermSince = c.Date
		}
	}
	// A primary-elect in catch-up or drain: PRIMARY by state, not yet writable, and its new
	// term's first entry not written (spec §5.4). A primary that is stepping down is also not
	// writable, but it wrote its first entry long ago (newTermStartDate set).
	if s.MyState == topology.StatePrimary && !o.Hello.IsWritablePrimary {
		c := s.ElectionCandidate
		v.CatchingUp = c == nil || (c.Term == s.Term && c.NewTermStartDate.IsZero())
	}
	if p := s.ElectionParticipant; p != nil && v.TermSince.IsZero() && p.Term == s.Term {
		v.TermSince = p.LastVoteDate
	}
	if m, ok := o.Config.Member(v.Host); ok {
		v.Priority, v.Votes, v.Hidden, v.Tags = m.Priority, m.Votes, m.Hidden, m.Tags
	}
	return v
}

// Unreachable is the LocalView after a failed observation: the last view's values, marked
// unreachable with how the call failed.
func Unreachable(last topology.LocalView, host string, err error) topology.LocalView {
	v := last
	if v.Host == "" {
		v.Host = host
	}
	v.Reachable = false
	v.Failure = Classify(err)
	return v
}

// Peers maps the other members of replSetGetStatus as this mongod's heartbeats see them.
func (o Observation) Peers() []topology.PeerSeen {
	var out []topology.PeerSeen
	for _, m := range o.Status.Members {
		if m.Self {
			continue
		}
		out = append(out, topology.PeerSeen{
			Host:          m.Name,
			State:         m.State,
			Healthy:       m.Healthy(),
			OpTime:        m.OpTime,
			LastHeartbeat: m.LastHeartbeat,
			PingMs:        m.PingMs,
			SyncSource:    m.SyncSource,
			// Healthy may be overridden by the sidecar's own probe; this stays the mongod's.
			HeartbeatHealthy:  m.Healthy(),
			LastHeartbeatRecv: m.LastHeartbeatRecv,
		})
	}
	return out
}

// Primary is the primary this mongod believes in (hello "primary", spec §2.1). Reachable is set
// only when the primary is this very mongod; the caller's own probe decides for another host.
func (o Observation) Primary() topology.PrimarySeen {
	p := topology.PrimarySeen{Host: o.Hello.Primary, ElectionTerm: o.Hello.ElectionTerm}
	if p.Host == "" {
		if m, ok := o.Status.PrimaryMember(); ok {
			p.Host = m.Name
		}
	}
	if p.Host == "" {
		return topology.PrimarySeen{}
	}
	p.Term = o.Status.Term
	if p.Host == o.Self() {
		p.Reachable = true
	}
	return p
}

// Lag is how far this member's applied optime trails the primary's, from replSetGetStatus; zero
// when no primary is known or this member is the primary.
func (o Observation) Lag() time.Duration {
	pm, ok := o.Status.PrimaryMember()
	if !ok || pm.Self {
		return 0
	}
	return o.LocalView().OpTime.LagBehind(pm.OpTime)
}
