package drill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/rsguard/rsguard/lab"
	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// LocalTargetOptions describe the set a Local target drives.
type LocalTargetOptions struct {
	// Token is the sidecars' admin token (switchover, acknowledge).
	Token string
	// OplogSizeMB is the members' --oplogSizeMB: StaleSecondary writes past it (0: 990, mongod's
	// minimum default, which makes that fault very slow).
	OplogSizeMB int
	// FirewallWait bounds the wait for the machine-wide firewall lock (default 2m).
	FirewallWait time.Duration
}

// Local is a Target over a lab.Cluster and its lab.SidecarSet: every fault is done to the real
// processes (signals, the lab firewall, fail points). It owns neither: Close releases its own
// connections, and the set is the caller's to tear down (LocalSet does both).
type Local struct {
	log      *slog.Logger
	c        *lab.Cluster
	cars     *lab.SidecarSet
	opts     LocalTargetOptions
	sidecars []Sidecar

	mu     sync.Mutex
	filler *mongo.SetClient
}

var _ Target = (*Local)(nil)

// NewLocal builds the target; every sidecar gets an API client with the token.
func NewLocal(log *slog.Logger, c *lab.Cluster, cars *lab.SidecarSet, o LocalTargetOptions) (*Local, error) {
	if c == nil || cars == nil {
		return nil, errors.New("drill: local target needs a cluster and its sidecars")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.OplogSizeMB <= 0 {
		o.OplogSizeMB = 990
	}
	if o.FirewallWait <= 0 {
		o.FirewallWait = 2 * time.Minute
	}
	l := &Local{log: log, c: c, cars: cars, opts: o}
	for _, car := range cars.Cars {
		cl, err := cars.API(car, o.Token)
		if err != nil {
			return nil, err
		}
		l.sidecars = append(l.sidecars, Sidecar{ID: car.ID, Addr: car.HTTP, Client: cl})
	}
	return l, nil
}

// Name says which set it is: "local set rs0 on 127.0.0.2-6 (mongoemu)".
func (l *Local) Name() string {
	hs := l.c.Hosts()
	return fmt.Sprintf("local set %s on %s-%d (%s)", l.c.ReplSet(), hs[0].Addr, hs[len(hs)-1].N, filepath.Base(hs[0].Mongod()))
}

func (l *Local) Local() bool         { return true }
func (l *Local) Sidecars() []Sidecar { return l.sidecars }
func (l *Local) Seeds() Seeds        { return Seeds{Set: l.c.ReplSet(), Hosts: l.c.Seeds()} }

// Close releases the target's own client; the set keeps running.
func (l *Local) Close(ctx context.Context) error {
	l.mu.Lock()
	f := l.filler
	l.filler = nil
	l.mu.Unlock()
	if f != nil {
		return f.Close(ctx)
	}
	return nil
}

// Members asks every member for replSetGetStatus at once (a frozen or cut-off one must not
// hold the answer up) and maps the reply of the newest term, a member that calls itself
// PRIMARY first among equals: the member that knows most about the last election.
func (l *Local) Members(ctx context.Context) ([]Member, error) {
	hosts := l.c.Hosts()
	sts := make([]*mongo.Status, len(hosts))
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() {
			hctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
			defer cancel()
			n, err := h.Node()
			if err != nil {
				errs[i] = err
				return
			}
			st, err := n.Status(hctx)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", h, err)
				return
			}
			sts[i] = &st
		})
	}
	wg.Wait()
	best := -1
	for i, st := range sts {
		if st == nil {
			continue
		}
		if best < 0 || cmp.Compare(st.Term, sts[best].Term) > 0 ||
			(st.Term == sts[best].Term && st.MyState == topology.StatePrimary && sts[best].MyState != topology.StatePrimary) {
			best = i
		}
	}
	if best < 0 {
		return nil, fmt.Errorf("no member answered replSetGetStatus: %w", errors.Join(errs...))
	}
	ms := membersOf(*sts[best])
	for i := range ms {
		if h := l.c.ByAddr(ms[i].Host); h != nil {
			if car := l.cars.ByHost(h); car != nil {
				ms[i].Sidecar = car.ID
			}
		}
	}
	return ms, nil
}

// host resolves a member name ("127.0.0.N:port") to its lab host.
func (l *Local) host(name string) (*lab.Host, error) {
	if h := l.c.ByAddr(name); h != nil {
		return h, nil
	}
	return nil, fmt.Errorf("drill: %q is not a member of %s", name, l.c)
}
