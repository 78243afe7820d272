package harness

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/lab"
)

// ErrNoPrimary is returned by Primary when no reachable member claims to be primary.
var ErrNoPrimary = lab.ErrNoPrimary

// Member is one entry of replSetGetStatus members.
type Member = lab.Member

// StateName maps mongod's member state numbers (spec §3.1) to their names.
func StateName(n int) string { return lab.StateName(n) }

// DialFrom opens (and closes) a TCP connection to dst from a socket bound to the address src.
func DialFrom(src, dst string, timeout time.Duration) error { return lab.DialFrom(src, dst, timeout) }

// Primary asks every reachable data member hello; the newest electionId wins.
func (c *Cluster) Primary(ctx context.Context) (*Host, error) {
	p, err := c.Cluster.Primary(ctx)
	return c.wrap(p), err
}

// WaitPrimary polls until some member is primary; except, if given, are not accepted (e.g.
// the primary that was just killed or cut off). Call it from the test goroutine.
func (c *Cluster) WaitPrimary(t testing.TB, timeout time.Duration, except ...*Host) *Host {
	t.Helper()
	ex := make([]*lab.Host, len(except))
	for i, h := range except {
		ex[i] = h.Host
	}
	p, err := c.Cluster.WaitPrimary(context.Background(), timeout, ex...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return c.wrap(p)
}

// Status runs replSetGetStatus on h.
func (c *Cluster) Status(ctx context.Context, h *Host) (bson.M, error) {
	return c.Cluster.Status(ctx, h.Host)
}

// State is h's own member state name (replSetGetStatus myState → "PRIMARY", "SECONDARY", ...).
func (c *Cluster) State(ctx context.Context, h *Host) (string, error) {
	return c.Cluster.State(ctx, h.Host)
}

// WaitState polls h's own replSetGetStatus until its state is state ("SECONDARY", ...).
func (c *Cluster) WaitState(t testing.TB, h *Host, state string, timeout time.Duration) {
	t.Helper()
	if err := c.Cluster.WaitState(context.Background(), h.Host, state, timeout); err != nil {
		t.Fatalf("%v", err)
	}
}

// Members decodes replSetGetStatus.members as seen by h.
func (c *Cluster) Members(ctx context.Context, h *Host) ([]Member, error) {
	return c.Cluster.Members(ctx, h.Host)
}

// Healthy checks that the primary sees every member up as SECONDARY or ARBITER, that every other
// member says so itself, and returns the primary.
func (c *Cluster) Healthy(ctx context.Context) (*Host, error) {
	p, err := c.Cluster.Healthy(ctx)
	return c.wrap(p), err
}

// HealthyOf is Healthy over the given members only (a drill may lease hosts that are no members).
func (c *Cluster) HealthyOf(ctx context.Context, hosts []*Host) (*Host, error) {
	p, err := c.Cluster.HealthyOf(ctx, unwrap(hosts))
	return c.wrap(p), err
}

// WaitHealthy polls Healthy and returns the primary.
func (c *Cluster) WaitHealthy(t testing.TB, timeout time.Duration) *Host {
	t.Helper()
	p, err := c.Cluster.WaitHealthy(context.Background(), timeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return c.wrap(p)
}

// LagSecondaries makes the given hosts stop applying the oplog (on) or resume (off); with no
// hosts, every data host that is not the writable primary right now.
func (c *Cluster) LagSecondaries(ctx context.Context, on bool, hosts ...*Host) error {
	return c.Cluster.LagSecondaries(ctx, on, unwrap(hosts)...)
}
