package heartbeat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rsguard/rsguard/topology"
)

// maxPacket is the largest push sent as a single datagram; bigger views go over a stream. Views
// are a few hundred bytes, so this only guards against pathological tag sets.
const maxPacket = 48 << 10

// Gossip is one sidecar's membership in the sidecars' gossip cluster.
type Gossip struct {
	logger    *slog.Logger
	opts      Options
	metrics   *metrics
	auth      *viewAuth
	ml        *memberlist.Memberlist
	addr      string   // advertised ip:port
	seeds     []string // Options.Seeds without our own address
	gen       int64    // this incarnation's generation, see envelope
	kick      chan struct{}
	updates   chan struct{} // Updates: a view with new content arrived
	events    chan MemberEvent
	settledCh chan struct{}

	life sync.Mutex // serialises Leave and Shutdown: memberlist panics on leave after shutdown
	wg   sync.WaitGroup

	mu        sync.Mutex
	local     json.RawMessage // encoded local view, nil until SetLocalView
	localView topology.MemberView
	seq       uint64
	views     map[string]*entry
	members   map[string]*member
	startedAt time.Time
	cancel    context.CancelFunc
	merged    bool // a push-pull with some peer completed
	settled   bool
	leaving   bool // Leave was called: no more pushes
	closed    bool
}

// New creates the memberlist (binding its sockets unless opts.Transport is set) but joins nobody:
// it already answers probes and joins from others. Call Start to join the seeds, then Shutdown.
// A nil logger discards; a nil registry leaves the metrics unregistered.
func New(logger *slog.Logger, reg prometheus.Registerer, opts Options) (*Gossip, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	conf, err := opts.memberlistConfig()
	if err != nil {
		return nil, err
	}
	g := newGossip(logger, reg, opts)
	conf.Delegate = delegate{g}
	conf.Events = eventDelegate{g}
	conf.Alive = aliveDelegate{g}
	conf.Logger = newMemberlistLogger(logger)
	ml, err := memberlist.Create(conf)
	if err != nil {
		return nil, fmt.Errorf("heartbeat: create memberlist for %s: %w", opts.NodeID, err)
	}
	g.ml = ml
	g.mu.Lock()
	if self := g.members[opts.NodeID]; self != nil {
		g.addr = self.Addr
	}
	g.mu.Unlock()
	for _, s := range opts.Seeds {
		s = strings.TrimSpace(s)
		if ap, err := netip.ParseAddrPort(s); err == nil {
			s = ap.String() // canonical, to compare with member addresses
		}
		if s != "" && s != g.addr && !slices.Contains(g.seeds, s) {
			g.seeds = append(g.seeds, s)
		}
	}
	return g, nil
}

// newGossip is the state without memberlist; tests of the view logic use it alone.
func newGossip(logger *slog.Logger, reg prometheus.Registerer, opts Options) *Gossip {
	return &Gossip{
		logger:    logger,
		opts:      opts,
		metrics:   newMetrics(reg),
		auth:      newViewAuth(reg, opts),
		gen:       opts.Clock().UnixNano(),
		kick:      make(chan struct{}, 1),
		updates:   make(chan struct{}, 1),
		events:    make(chan MemberEvent, eventBuffer),
		settledCh: make(chan struct{}),
		views:     make(map[string]*entry),
		members:   make(map[string]*member),
	}
}

// LocalAddr is the advertised "ip:port" peers use to reach this sidecar (the real port when
// BindPort was 0).
func (g *Gossip) LocalAddr() string { return g.addr }

// Start joins the seeds and starts pushing views. It never fails because seeds are unreachable:
// joining is retried in the background (logged, rsguard_heartbeat_seed_join_failures_total) and a
// sidecar alone simply never settles and never sees a quorum. The background work stops when ctx
// is done or on Shutdown.
func (g *Gossip) Start(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.closed:
		return errors.New("heartbeat: Start after Shutdown")
	case !g.startedAt.IsZero():
		return errors.New("heartbeat: already started")
	}
	g.startedAt = g.opts.Clock()
	ctx, g.cancel = context.WithCancel(ctx)
	g.wg.Add(2)
	go func() { defer g.wg.Done(); g.pushLoop(ctx) }()
	go func() { defer g.wg.Done(); g.joinLoop(ctx) }()
	g.logger.Info("gossip started", "node", g.opts.NodeID, "addr", g.addr, "seeds", g.seeds,
		"encrypted", len(g.opts.Keyring) > 0)
	if len(g.opts.Keyring) == 0 {
		g.logger.Warn("gossip is NOT authenticated (insecure): anyone who reaches " + g.addr +
			" can join and forge the views of configured sidecars; configure a keyring")
	}
	return nil
}

// Settled reports whether the settle period is over: Settle has elapsed since Start and, when
// there are seeds, at least one push-pull exchange with a peer completed (so membership and views
// have been learnt, not guessed). It never reverts; quorum is the election's business.
func (g *Gossip) Settled() bool {
	now := g.opts.Clock()
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.checkSettledLocked(now)
}

// WaitSettled blocks until Settled or ctx is done. It notices within one PushInterval.
func (g *Gossip) WaitSettled(ctx context.Context) error {
	select {
	case <-g.settledCh:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("heartbeat: waiting to settle: %w", ctx.Err())
	}
}

func (g *Gossip) checkSettledLocked(now time.Time) bool {
	switch {
	case g.settled:
		return true
	case g.startedAt.IsZero(), now.Sub(g.startedAt) < g.opts.Settle, !g.merged && len(g.seeds) > 0:
		return false
	}
	g.settled = true
	close(g.settledCh)
	g.metrics.settled.Set(1)
	g.logger.Info("gossip settled", "after", now.Sub(g.startedAt), "members", len(g.alivePeersLocked())+1,
		"views", len(g.views))
	return true
}

// Leave tells the others this sidecar is going (they mark it left at once instead of suspecting
// it for seconds) and waits up to timeout for that to go out. Call Shutdown afterwards.
func (g *Gossip) Leave(timeout time.Duration) error {
	g.life.Lock()
	defer g.life.Unlock()
	g.mu.Lock()
	closed := g.closed
	g.mu.Unlock()
	if closed {
		return nil
	}
	g.sayGoodbye()
	if err := g.ml.Leave(timeout); err != nil {
		return fmt.Errorf("heartbeat: leave: %w", err)
	}
	return nil
}

// Shutdown stops memberlist, the transport and the background loops, and closes Events(). It is
// safe to call more than once.
func (g *Gossip) Shutdown() error {
	g.life.Lock()
	defer g.life.Unlock()
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	close(g.events)
	cancel := g.cancel
	g.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	err := g.ml.Shutdown()
	g.wg.Wait()
	if err != nil {
		return fmt.Errorf("heartbeat: shutdown: %w", err)
	}
	return nil
}

// pushLoop sends the local view to every alive member each PushInterval (or on PushNow), plus
// the relays the relay rule asks for.
func (g *Gossip) pushLoop(ctx context.Context) {
	t := time.NewTicker(g.opts.PushInterval)
	defer t.Stop()
	for {
		g.push()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-g.kick:
		}
	}
}

type outMsg struct {
	to   memberlist.Node
	kind string
	b    []byte
}

func (g *Gossip) push() {
	now := g.opts.Clock()
	g.mu.Lock()
	g.checkSettledLocked(now)
	for id, e := range g.views {
		g.metrics.viewAge.WithLabelValues(id).Set(max(0, now.Sub(e.at)).Seconds())
	}
	var out []outMsg
	if !g.leaving {
		var own []byte
		if e := g.ownEnvelopeLocked(now); e != nil {
			own, _ = encodeEnvelope(e) // cannot fail: the view is raw JSON already
		}
		for _, p := range g.alivePeersLocked() {
			if own != nil {
				out = append(out, outMsg{p.node, "own", own})
			}
			for _, r := range g.relaysForLocked(p.ID, now) {
				if b, err := encodeEnvelope(r); err == nil {
					out = append(out, outMsg{p.node, "relay", b})
				}
			}
		}
	}
	g.mu.Unlock()
	g.send(out)
}

// sayGoodbye stops the pushes and sends a last one marked Bye, so that peers record this sidecar
// as left rather than dead when memberlist's leave message reaches them.
func (g *Gossip) sayGoodbye() {
	g.mu.Lock()
	g.leaving = true
	var out []outMsg
	if e := g.ownEnvelopeLocked(g.opts.Clock()); e != nil {
		e.Bye = true
		b, _ := encodeEnvelope(g.auth.sign(e))
		for _, p := range g.alivePeersLocked() {
			out = append(out, outMsg{p.node, "own", b})
		}
	}
	g.mu.Unlock()
	g.send(out)
}

func (g *Gossip) send(out []outMsg) {
	for _, m := range out {
		var err error
		if len(m.b) > maxPacket {
			err = g.ml.SendReliable(&m.to, m.b)
		} else {
			err = g.ml.SendBestEffort(&m.to, m.b)
		}
		if err != nil {
			g.metrics.sendErrors.Inc()
			g.logger.Debug("pushing view", "to", m.to.Name, "kind", m.kind, "err", err)
			continue
		}
		g.metrics.viewsSent.WithLabelValues(m.kind).Inc()
	}
}
