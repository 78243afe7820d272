package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrNoPrimary is returned by Primary when no reachable member claims to be primary.
var ErrNoPrimary = errors.New("no member is primary")

// Primary asks every reachable data member hello (concurrently). When several claim primary
// (a deposed primary that has not noticed yet) it returns the one with the newest electionId,
// i.e. the highest term.
func (c *Cluster) Primary(ctx context.Context) (*Host, error) {
	hosts := c.DataHosts()
	type answer struct {
		hello bson.M
		err   error
	}
	answers := make([]answer, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		if !h.Running() {
			answers[i].err = ErrNotRunning
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			answers[i].hello, answers[i].err = h.Hello(ctx)
		})
	}
	wg.Wait()
	var best *Host
	var bestID bson.ObjectID
	var seen []string
	for i, a := range answers {
		if a.err != nil {
			seen = append(seen, fmt.Sprintf("%s: %v", hosts[i], a.err))
			continue
		}
		if a.hello["isWritablePrimary"] != true {
			seen = append(seen, fmt.Sprintf("%s: not primary", hosts[i]))
			continue
		}
		id, _ := a.hello["electionId"].(bson.ObjectID)
		if best == nil || bytes.Compare(id[:], bestID[:]) > 0 {
			best, bestID = hosts[i], id
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w (%s)", ErrNoPrimary, strings.Join(seen, "; "))
	}
	return best, nil
}

// WaitPrimary polls until some member is primary; except, if given, are not accepted (e.g.
// the primary that was just killed or cut off).
func (c *Cluster) WaitPrimary(ctx context.Context, timeout time.Duration, except ...*Host) (*Host, error) {
	var p *Host
	err := Poll(ctx, timeout, func(ctx context.Context) error {
		var err error
		if p, err = c.Primary(ctx); err != nil {
			return err
		}
		for _, x := range except {
			if p == x {
				return fmt.Errorf("%s is still primary", p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting %v for a primary: %w", timeout, err)
	}
	return p, nil
}

// Status runs replSetGetStatus on h.
func (c *Cluster) Status(ctx context.Context, h *Host) (bson.M, error) {
	raw, err := h.Command(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}})
	if err != nil {
		return nil, err
	}
	var m bson.M
	return m, bson.Unmarshal(raw, &m)
}

// State is h's own member state name (replSetGetStatus myState → "PRIMARY", "SECONDARY", ...).
func (c *Cluster) State(ctx context.Context, h *Host) (string, error) {
	raw, err := h.Command(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}})
	if err != nil {
		return "", err
	}
	st, ok := raw.Lookup("myState").AsInt64OK()
	if !ok {
		return "", fmt.Errorf("%s: replSetGetStatus without myState", h)
	}
	return StateName(int(st)), nil
}

// StateName maps mongod's member state numbers (spec §3.1) to their names.
func StateName(n int) string {
	names := map[int]string{0: "STARTUP", 1: "PRIMARY", 2: "SECONDARY", 3: "RECOVERING", 5: "STARTUP2",
		6: "UNKNOWN", 7: "ARBITER", 8: "DOWN", 9: "ROLLBACK", 10: "REMOVED"}
	if s, ok := names[n]; ok {
		return s
	}
	return fmt.Sprintf("STATE%d", n)
}

// WaitState polls h's own replSetGetStatus until its state is state ("SECONDARY", ...).
func (c *Cluster) WaitState(ctx context.Context, h *Host, state string, timeout time.Duration) error {
	err := Poll(ctx, timeout, func(ctx context.Context) error {
		got, err := c.State(ctx, h)
		if err != nil {
			return err
		}
		if got != state {
			return fmt.Errorf("%s is %s", h, got)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("waiting %v for %s to be %s: %w", timeout, h, state, err)
	}
	c.Timeline.Mark("%s: %s", h, state)
	return nil
}

// Member is one entry of replSetGetStatus members.
type Member struct {
	Name     string  `bson:"name"`
	Health   float64 `bson:"health"`
	StateStr string  `bson:"stateStr"`
	Self     bool    `bson:"self"`
}

// Members decodes replSetGetStatus.members as seen by h.
func (c *Cluster) Members(ctx context.Context, h *Host) ([]Member, error) {
	raw, err := h.Command(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}})
	if err != nil {
		return nil, err
	}
	var st struct {
		Members []Member `bson:"members"`
	}
	return st.Members, bson.Unmarshal(raw, &st)
}

// Healthy checks that the primary sees every member up (health 1) as SECONDARY or ARBITER, that
// every other member says so itself (no deposed primary left), and returns the primary.
func (c *Cluster) Healthy(ctx context.Context) (*Host, error) { return c.HealthyOf(ctx, c.hosts) }

// HealthyOf is Healthy over the given members only (a drill may lease hosts that are no members).
func (c *Cluster) HealthyOf(ctx context.Context, hosts []*Host) (*Host, error) {
	p, err := c.Primary(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := c.Members(ctx, p)
	if err != nil {
		return nil, err
	}
	if len(ms) != len(hosts) {
		return nil, fmt.Errorf("primary %s lists %d members, want %d", p, len(ms), len(hosts))
	}
	for _, m := range ms {
		switch {
		case m.StateStr == "PRIMARY" && !m.Self:
			return nil, fmt.Errorf("primary %s still sees %s as PRIMARY", p, m.Name)
		case m.Health != 1:
			return nil, fmt.Errorf("primary %s sees %s with health %v (%s)", p, m.Name, m.Health, m.StateStr)
		case m.StateStr != "PRIMARY" && m.StateStr != "SECONDARY" && m.StateStr != "ARBITER":
			return nil, fmt.Errorf("primary %s sees %s in %s", p, m.Name, m.StateStr)
		}
	}
	for _, h := range hosts { // a deposed primary must have noticed, too
		if h == p {
			continue
		}
		st, err := c.State(ctx, h)
		if err != nil {
			return nil, err
		}
		if st != "SECONDARY" && st != "ARBITER" {
			return nil, fmt.Errorf("%s says it is %s", h, st)
		}
	}
	return p, nil
}

// WaitHealthy polls Healthy and returns the primary; a host whose mongod is not running ends
// the wait at once.
func (c *Cluster) WaitHealthy(ctx context.Context, timeout time.Duration) (*Host, error) {
	var p *Host
	err := Poll(ctx, timeout, func(ctx context.Context) error {
		for _, h := range c.hosts {
			if !h.Running() {
				return Abort(fmt.Errorf("%s is not running (%s)", h, h.proc.ExitState()))
			}
		}
		var err error
		p, err = c.Healthy(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("waiting %v for a primary and all members healthy: %w", timeout, err)
	}
	return p, nil
}

// LagSecondaries makes the given hosts stop applying the oplog (on) or resume (off). With no
// hosts it acts on every data-bearing host that is not the writable primary right now, which is
// how a drill makes the secondaries lag while the primary stays healthy.
func (c *Cluster) LagSecondaries(ctx context.Context, on bool, hosts ...*Host) error {
	if len(hosts) == 0 {
		for _, h := range c.DataHosts() {
			hello, err := h.Hello(ctx)
			if err != nil {
				return fmt.Errorf("lag secondaries: %w", err)
			}
			if w, _ := hello["isWritablePrimary"].(bool); !w {
				hosts = append(hosts, h)
			}
		}
	}
	var errs []error
	for _, h := range hosts {
		errs = append(errs, h.StopApplying(ctx, on))
	}
	return errors.Join(errs...)
}

// DialFrom opens (and closes) a TCP connection to dst from a socket bound to the address src,
// e.g. to check that a cut between two hosts holds.
func DialFrom(src, dst string, timeout time.Duration) error {
	d := net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(HostAddr(src))}}
	c, err := d.Dial("tcp", dst)
	if err != nil {
		return err
	}
	return c.Close()
}
