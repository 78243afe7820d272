package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/heartbeat"
	"github.com/rsguard/rsguard/notify"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/topology"
)

// watchInterval is how often the decide loop looks for material changes in the gossiped views
// (a peer losing the primary, say) between its regular ticks. It is a map copy and a string
// comparison; the views themselves arrive every heartbeat push (500ms).
const watchInterval = 200 * time.Millisecond

// Supervisor is one sidecar's runtime: it observes its mongod (data mode), probes the primary and
// the other members, gossips what it sees, and decides and executes failovers on the merged
// picture. Create it with New, run it with Run; Status, Reload and Acknowledge are safe to call
// from any goroutine while it runs.
type Supervisor struct {
	logger   *slog.Logger
	opts     Options
	id       string
	mode     topology.Mode
	selfHost string // the local mongod as the replica set names it; "" for arbiter sidecars
	metrics  *metrics
	gossip   *heartbeat.Gossip
	audit    *auditLog
	nodes    *nodes
	kick     chan struct{}
	started  atomic.Bool
	// ctrl owns the local mongod when process.controller says so (process.go); nil otherwise.
	ctrl        recovery.Controller
	procMetrics *processMetrics
	rbMetrics   *rollbackMetrics
	rsMetrics   *resyncMetrics
	psaMetrics  *psaMetrics
	adopt       atomic.Bool    // the running mongod was found, not started by ctrl
	fenced      atomic.Bool    // ctrl stopped it for a fence: only recovery starts it again
	inflight    sync.WaitGroup // probes and actions running in their own goroutines
	pubMu       sync.Mutex     // serialises publish so views reach gossip in order

	mu           sync.Mutex
	cfg          *config.Config
	policy       election.Policy
	local        localState
	peers        map[string]*peerState
	probe        probeState
	state        election.State
	running      map[election.Action]bool
	opRunning    map[string]bool // operator requests this sidecar is running (operator_run.go)
	hist         *history        // the set's history (history.go)
	notifier     *notify.Notifier
	pauseHold    pauseHold // the local mongod kept down by a pause (pause_process.go)
	ownView      topology.MemberView
	viewSig      string
	published    bool // the view has been handed to gossip (after the first readiness)
	decision     decisionRecord
	lastExec     *ActionRecord
	auditKey     string
	warm         bool // ready with a quorum at least once: refusals from then on are audited
	notReady     []string
	readyOnce    bool
	readySince   time.Time // when the sidecar last became ready (decide.go readySettle)
	failover     failoverClock
	drift        *configDrift // config agreement with the peers (agreement.go)
	jprobe       probeState   // the w:1 j:true probe beside probe (w:"majority"), writeprobe.go
	react        reaction     // react.go: hosts looked at on other sidecars' reports
	rs           resyncState  // resync.go
	psa          psaState     // psa.go
	readdRefusal string       // readd.go: the last refusal audited
	rbLastScan   string       // rollback.go: the rollback files seen by the previous pass
	fencedTerm   int64        // the local term when the fence stopped mongod (process.go)
	fencedAt     time.Time
	lastSnap     *topology.Snapshot
}

// New builds a supervisor from its options: it opens the audit log (creating its directory),
// restores the anti-flap state from state_dir, and creates the gossip member (binding its
// sockets unless a test transport is given). Nothing talks to mongod before Run.
func New(opts Options) (*Supervisor, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg := opts.Config
	s := &Supervisor{
		logger:  opts.Logger.With("sidecar", cfg.ID, "set", cfg.ReplicaSet),
		opts:    opts,
		id:      cfg.ID,
		mode:    topology.Mode(cfg.Mode),
		metrics: newMetrics(opts.Registry),
		nodes:   newNodes(opts.DialMongo),
		kick:    make(chan struct{}, 1),
		cfg:     cfg,
		policy:  policyFrom(cfg),
		peers:   map[string]*peerState{},
		running: map[election.Action]bool{}, opRunning: map[string]bool{},
		drift: newConfigDrift(cfg, opts.Registry),
	}
	if cfg.Mode == config.ModeData {
		s.selfHost = cfg.Self().Mongod
	}
	st, err := loadState(statePath(cfg))
	if err != nil {
		// A damaged state file must not keep a sidecar from starting; the anti-flap memory is
		// lost, which the log says.
		s.logger.Warn("ignoring saved supervisor state", "err", err)
	}
	s.state = st
	if s.audit, err = openAudit(cfg.AuditLog); err != nil {
		return nil, err
	}
	if s.hist, err = newHistory(s.logger.With("component", "history"), cfg.StateDir); err != nil {
		_ = s.audit.close()
		return nil, err
	}
	if s.notifier, err = notify.New(s.logger.With("component", "notify"), opts.Registry, NotifyOptions(cfg)); err != nil {
		_ = s.audit.close()
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	gopts, err := gossipOptions(cfg)
	if err != nil {
		_ = s.audit.close()
		return nil, err
	}
	gopts.Clock = opts.Now
	if opts.GossipOptions != nil {
		opts.GossipOptions(&gopts)
	}
	if s.gossip, err = heartbeat.New(opts.Logger.With("sidecar", cfg.ID), opts.Registry, gopts); err != nil {
		_ = s.audit.close()
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	if cfg.Mode == config.ModeData {
		s.ctrl = opts.Controller
		if s.ctrl == nil {
			if s.ctrl, err = newController(s.logger.With("component", "process"), cfg.Process); err != nil {
				_ = s.audit.close()
				return nil, err
			}
		}
		if s.ctrl != nil {
			s.procMetrics = newProcessMetrics(opts.Registry)
		}
		s.rbMetrics = newRollbackMetrics(opts.Registry)
		s.rsMetrics = newResyncMetrics(opts.Registry)
		s.psaMetrics = newPSAMetrics(opts.Registry)
		if s.ctrl != nil && cfg.Recovery.DBPath != "" {
			if s.rs.resyncer, err = recovery.NewResyncer(s.logger.With("component", "resync"), resyncController{s},
				recovery.ResyncOptions{StateDir: cfg.StateDir, Keep: cfg.Recovery.ResyncKeep, MaxLag: cfg.Recovery.ResyncMaxLag, Now: opts.Now}); err != nil {
				_ = s.audit.close()
				return nil, err
			}
			if err := s.resumeResync(); err != nil {
				s.logger.Error("cannot read the saved resync plan: not resuming it", "err", err)
			}
		}
	}
	s.ownView = s.buildViewLocked(nil, opts.Now())
	s.metrics.ready.Set(0)
	return s, nil
}

// Run joins the gossip cluster and runs the loops until ctx is done, then leaves the cluster,
// waits for probes and actions in flight (their contexts are cancelled) and closes everything.
// It returns nil after a clean shutdown; it can be called once.
func (s *Supervisor) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("supervisor: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.publish()
	if err := s.gossip.Start(ctx); err != nil {
		return errors.Join(fmt.Errorf("supervisor: %w", err), s.shutdown())
	}
	s.mu.Lock()
	s.logger.Info("supervisor started", "config", s.cfg, "mongod", s.selfHost)
	s.mu.Unlock()

	var loops sync.WaitGroup
	start := func(f func(context.Context)) {
		loops.Add(1)
		go func() { defer loops.Done(); f(ctx) }()
	}
	if s.mode == topology.ModeData {
		start(func(ctx context.Context) { s.every(ctx, s.probeInterval, s.observeLocal) })
		start(s.watchLocal)
		start(s.watchTopology)
		start(func(ctx context.Context) { s.every(ctx, s.probeInterval, s.psaTick) })
		start(func(ctx context.Context) { s.every(ctx, s.probeInterval, s.readdTick) })
		if s.ctrl != nil {
			start(s.runProcess)
		}
		if s.cfg.Recovery.DBPath != "" {
			start(func(ctx context.Context) { s.every(ctx, s.archiveInterval, s.archiveRollback) })
			if s.rs.resyncer != nil {
				start(func(ctx context.Context) { s.every(ctx, s.probeInterval, s.resyncTick) })
			}
		} else {
			s.logger.Warn("recovery.dbpath is not set (nor process.exec.args --dbpath): rollback files will not be archived")
		}
	}
	start(func(ctx context.Context) { s.every(ctx, s.probeInterval, s.peerRound) })
	start(func(ctx context.Context) { s.every(ctx, s.writeProbeInterval, s.probeTick) })
	start(s.decideLoop)
	start(s.watchMembership)
	<-ctx.Done()
	loops.Wait()
	s.inflight.Wait()
	s.logger.Info("supervisor stopping")
	return s.shutdown()
}

func (s *Supervisor) shutdown() error {
	leaveErr := s.gossip.Leave(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(leaveErr, s.gossip.Shutdown(), s.nodes.closeAll(ctx), s.notifier.Close(ctx), s.audit.close())
}

// Reload switches to a new probe and failover policy. cfg is the result of config.ReloadPolicy
// (or Config.ApplyPolicy) on the running config: only its probe, failover and log sections may
// differ. Identity changes are refused.
func (s *Supervisor) Reload(cfg *config.Config) error {
	if cfg == nil {
		return errors.New("supervisor: reload: nil config")
	}
	s.mu.Lock()
	if cfg.ID != s.cfg.ID || cfg.ReplicaSet != s.cfg.ReplicaSet || cfg.Mode != s.cfg.Mode {
		s.mu.Unlock()
		return fmt.Errorf("supervisor: reload: id, mode and replica_set cannot change (have %s/%s/%s)", s.cfg.ID, s.cfg.Mode, s.cfg.ReplicaSet)
	}
	s.cfg = cfg
	s.policy = policyFrom(cfg)
	s.drift.setConfig(cfg)
	s.mu.Unlock()
	s.logger.Info("policy reloaded", "config", cfg)
	s.kickDecide()
	return nil
}

func (s *Supervisor) now() time.Time { return s.opts.Now() }

func (s *Supervisor) probeInterval() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Probe.Interval
}

func (s *Supervisor) probeTimeout() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Probe.Timeout
}

// archiveInterval is how often the rollback archive looks at the dbpath: rollback files appear
// once per rollback, so a few probe intervals are soon enough.
func (s *Supervisor) archiveInterval() time.Duration { return 2 * s.probeInterval() }

func (s *Supervisor) writeProbeInterval() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Probe.WriteProbeInterval
}

// every runs f at once and then every interval(), re-reading the interval after each run so a
// reload applies from the next round.
func (s *Supervisor) every(ctx context.Context, interval func() time.Duration, f func(context.Context)) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f(ctx)
		t.Reset(interval())
	}
}

func (s *Supervisor) kickDecide() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// watchMembership turns gossip membership changes into immediate decisions.
func (s *Supervisor) watchMembership(ctx context.Context) {
	events := s.gossip.Events()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				return
			}
			s.kickDecide()
		}
	}
}

// decideLoop decides every probe interval, at once when this sidecar's own view changed
// materially (kick), and when the watch sees a material change in anyone else's view.
func (s *Supervisor) decideLoop(ctx context.Context) {
	tick := time.NewTimer(0)
	defer tick.Stop()
	watch := time.NewTicker(watchInterval)
	defer watch.Stop()
	updates := s.gossip.Updates()
	var sig string
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.kick:
		case <-watch.C:
			if !s.viewsMoved(&sig) {
				continue
			}
		case <-updates:
			// A view with news arrived: look at what it reports lost, and decide now rather than
			// at the next watch (react.go). The watch stays for what no message announces: a view
			// growing stale.
			s.reactToViews(ctx)
			if !s.viewsMoved(&sig) {
				continue
			}
		}
		s.decide(ctx)
		tick.Reset(s.probeInterval())
	}
}
