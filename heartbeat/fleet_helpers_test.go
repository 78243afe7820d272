package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rsguard/rsguard/heartbeat/memnet"
	"github.com/rsguard/rsguard/topology"
)

// A fleet is many replica sets' gossip clusters sharing one memnet Network and one process, as
// the sidecars of a fleet share a machine's CPU. Each set is its own cluster (own Label, own
// Members); TestFleetGossipShort and BenchmarkFleetGossip drive it through the same phases.

// fleetConfig sizes a fleet run.
type fleetConfig struct {
	sets, per  int
	staleAfter time.Duration // a view older than this counts as stale (doc.go: 3 push intervals)
	poll       time.Duration // polling period for convergence, staleness and memberlist's verdict
	limit      time.Duration // liveness deadline of each phase, per set: not a performance bound
	synctest   bool          // running in a synctest bubble: wait out in-flight probes at the end
}

type fleetSet struct {
	name  string
	nodes []*node
	start time.Time
}

// fleetSample is one set's measurements; each is the time until every other member of the set
// saw the event (the slowest observer).
type fleetSample struct {
	converge   time.Duration // from the set's start until every member holds a fresh view of every other
	changeTick time.Duration // SetLocalView only: the change waits for the next push tick
	changeNow  time.Duration // SetLocalView + PushNow, as the supervisor does for changes that matter
	stale      time.Duration // from Kill until the victim's view is older than staleAfter everywhere
	dead       time.Duration // from Kill until memberlist declares the victim dead everywhere
}

// fleetResult is a whole run: one sample per set, and the errors (a set that never converged, a
// change that never arrived, a death nobody noticed).
type fleetResult struct {
	samples      []fleetSample
	errs         []error
	staleSurvive int // sets whose surviving members saw each other stale after the kill phase
}

func fleetAddr(set, member int) string { return fmt.Sprintf("10.1.%d.%d:7946", set, member+2) }

// runFleet builds the fleet, measures it and shuts it down.
func runFleet(tb testing.TB, cfg fleetConfig) fleetResult {
	tb.Helper()
	net := memnet.NewNetwork()
	sets := make([]*fleetSet, cfg.sets)
	res := fleetResult{samples: make([]fleetSample, cfg.sets)}
	errs := make([]error, cfg.sets)
	defer func() {
		for _, s := range sets {
			if s == nil {
				continue
			}
			for _, n := range s.nodes {
				if err := n.g.Shutdown(); err != nil {
					tb.Errorf("%s: shutdown: %v", n.id, err)
				}
			}
		}
		if cfg.synctest {
			time.Sleep(10 * time.Second) // see cluster.stop
		}
	}()

	// Phase 1: start every set; each converges on its own.
	var wg sync.WaitGroup
	for i := range sets {
		s, err := startFleetSet(tb, net, i, cfg.per)
		sets[i] = s
		if err != nil {
			tb.Fatal(err)
		}
		wg.Go(func() {
			ok := pollFor(cfg, func() bool { return s.converged(cfg.staleAfter) })
			res.samples[i].converge = time.Since(s.start)
			if !ok {
				errs[i] = fmt.Errorf("%s: not converged within %v", s.name, cfg.limit)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		res.errs = append(res.errs, err)
		return res
	}
	time.Sleep(3 * time.Second) // past start-up, where relays and push-pull copies race pushes

	// Phase 2: a state change per set, at a random moment within one push interval (a fixed seed
	// per set; a regular spread would line up with the sets' start times and so with their push
	// ticks); first without PushNow, then with it.
	for pass, pushNow := range []bool{false, true} {
		for i, s := range sets {
			wg.Go(func() {
				time.Sleep(offset(i, pass, DefaultPushInterval))
				took, err := s.change(cfg, int64(2+pass), pushNow)
				if pushNow {
					res.samples[i].changeNow = took
				} else {
					res.samples[i].changeTick = took
				}
				errs[i] = err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			res.errs = append(res.errs, err)
			return res
		}
		time.Sleep(time.Second)
	}

	// Phase 3: the last sidecar of every set dies (memnet Kill: a frozen host behind DROP), at a
	// random moment within one probe interval.
	for i, s := range sets {
		wg.Go(func() {
			time.Sleep(offset(i, 2, DefaultProbeInterval))
			res.samples[i].stale, res.samples[i].dead, errs[i] = s.kill(cfg, net)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		res.errs = append(res.errs, err)
	}
	for _, s := range sets {
		survivors := s.nodes[:len(s.nodes)-1]
		if !allFreshAmong(cfg.staleAfter, survivors) {
			res.staleSurvive++
		}
		for _, n := range survivors {
			if ms := n.g.Members(); len(ms) != cfg.per {
				res.errs = append(res.errs, fmt.Errorf("%s knows %d members, want %d (its set only): %v",
					n.id, len(ms), cfg.per, ms))
			}
		}
	}
	return res
}

// offset is a reproducible random delay in [0, within) for set i in phase pass.
func offset(i, pass int, within time.Duration) time.Duration {
	return time.Duration(rand.New(rand.NewPCG(uint64(i), uint64(pass))).Int64N(int64(within)))
}

// startFleetSet starts one set: its own label, members and seeds, authenticated like production.
func startFleetSet(tb testing.TB, net *memnet.Network, i, per int) (*fleetSet, error) {
	s := &fleetSet{name: fmt.Sprintf("rs%03d", i), start: time.Now()}
	var ids, seeds []string
	for j := range per {
		ids = append(ids, fmt.Sprintf("%s-s%d", s.name, j+1))
		seeds = append(seeds, fleetAddr(i, j))
	}
	for j, id := range ids {
		tr, err := net.NewTransport(seeds[j])
		if err != nil {
			return s, err
		}
		g, err := New(testLogger(tb.Output()).With("node", id), nil, Options{
			NodeID: id, BindAddr: strings.Split(seeds[j], ":")[0], BindPort: 7946, Seeds: seeds,
			Transport: tr, Keyring: [][]byte{testKey}, Label: s.name, Members: ids,
		})
		if err != nil {
			return s, err
		}
		s.nodes = append(s.nodes, &node{id: id, addr: seeds[j], g: g})
		if err := g.SetLocalView(dataView(id, topology.StateSecondary, 1)); err != nil {
			return s, err
		}
		if err := g.Start(context.Background()); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (s *fleetSet) converged(maxAge time.Duration) bool {
	for _, n := range s.nodes {
		if len(n.g.Members()) != len(s.nodes) {
			return false
		}
	}
	return allFreshAmong(maxAge, s.nodes)
}

func allFreshAmong(maxAge time.Duration, nodes []*node) bool {
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b && !fresh(a, b.id, maxAge) {
				return false
			}
		}
	}
	return true
}

// change publishes a new view on the set's first sidecar and returns when the last of the others
// held it. The observers wake on Updates, the signal consumers use, so no polling period blurs it.
func (s *fleetSet) change(cfg fleetConfig, term int64, pushNow bool) (time.Duration, error) {
	origin := s.nodes[0]
	start := time.Now()
	if err := origin.g.SetLocalView(dataView(origin.id, topology.StatePrimary, term)); err != nil {
		return 0, err
	}
	if pushNow {
		origin.g.PushNow()
	}
	var wg sync.WaitGroup
	took := make([]time.Duration, len(s.nodes))
	errs := make([]error, len(s.nodes))
	for i, o := range s.nodes[1:] {
		wg.Go(func() {
			deadline := time.NewTimer(cfg.limit)
			defer deadline.Stop()
			for {
				if v, ok := o.g.Views()[origin.id]; ok && v.View.Local.Term >= term {
					took[i] = time.Since(start)
					return
				}
				select {
				case <-o.g.Updates():
				case <-deadline.C:
					errs[i] = fmt.Errorf("%s: term %d of %s not seen within %v", o.id, term, origin.id, cfg.limit)
					return
				}
			}
		})
	}
	wg.Wait()
	return slices.Max(took), errors.Join(errs...)
}

// kill cuts the set's last sidecar off and returns when the others saw its view stale and when
// memberlist declared it dead, at every other member.
func (s *fleetSet) kill(cfg fleetConfig, net *memnet.Network) (stale, dead time.Duration, err error) {
	victim, others := s.nodes[len(s.nodes)-1], s.nodes[:len(s.nodes)-1]
	net.Kill(victim.addr)
	start := time.Now()
	staleAt := make([]time.Duration, len(others))
	deadAt := make([]time.Duration, len(others))
	done := pollFor(cfg, func() bool {
		all := true
		for i, o := range others {
			if staleAt[i] == 0 && o.g.Views()[victim.id].Age > cfg.staleAfter {
				staleAt[i] = time.Since(start)
			}
			if deadAt[i] == 0 && status(o, victim.id) == StatusDead {
				deadAt[i] = time.Since(start)
			}
			all = all && staleAt[i] > 0 && deadAt[i] > 0
		}
		return all
	})
	if !done {
		return 0, 0, fmt.Errorf("%s: %s not stale and dead everywhere within %v (stale after %v, dead after %v)",
			s.name, victim.id, cfg.limit, staleAt, deadAt)
	}
	return slices.Max(staleAt), slices.Max(deadAt), nil
}

// pollFor polls cond every cfg.poll until it holds (true) or cfg.limit passes (false).
func pollFor(cfg fleetConfig, cond func() bool) bool {
	start := time.Now()
	for !cond() {
		if time.Since(start) > cfg.limit {
			return false
		}
		time.Sleep(cfg.poll)
	}
	return true
}

// quantile is the nearest-rank q-quantile of ds (sorted in place).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// fleetStats are the distributions over sets, one row per measurement.
type fleetStat struct {
	name                string
	p50, p90, p99, pMax time.Duration
}

func (r fleetResult) stats() []fleetStat {
	pick := []struct {
		name string
		f    func(fleetSample) time.Duration
	}{
		{"converge", func(s fleetSample) time.Duration { return s.converge }},
		{"change", func(s fleetSample) time.Duration { return s.changeTick }},
		{"change_pushnow", func(s fleetSample) time.Duration { return s.changeNow }},
		{"stale", func(s fleetSample) time.Duration { return s.stale }},
		{"dead", func(s fleetSample) time.Duration { return s.dead }},
	}
	var out []fleetStat
	for _, p := range pick {
		var ds []time.Duration
		for _, s := range r.samples {
			ds = append(ds, p.f(s))
		}
		out = append(out, fleetStat{p.name, quantile(ds, .5), quantile(ds, .9), quantile(ds, .99), quantile(ds, 1)})
	}
	return out
}
