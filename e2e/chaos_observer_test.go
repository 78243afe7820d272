package e2e

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/e2e/harness"
)

// Observer cadence: hello on every member every chaosHelloEvery (a frozen member's poll waits out
// its timeout and only delays that member's loop); every sidecar's status every chaosStatusEvery.
const (
	chaosHelloEvery    = 100 * time.Millisecond
	chaosHelloTimeout  = 500 * time.Millisecond
	chaosStatusEvery   = time.Second
	chaosStatusTimeout = time.Second
)

// chaosObserver watches the set all along the soak: every member's hello (who is a writable
// primary in which term, checked at once by primaryPerTerm) and every sidecar's status (the last
// action it executed, for the audit check).
type chaosObserver struct {
	tl     *harness.Timeline
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	ppt        *primaryPerTerm
	spans      map[hostTerm][2]writableObs // first and last writable hello per host and term
	violations []chaosViolation
	actions    map[string]actionSeen // by sidecar and start time
	hellos     int
}

type hostTerm struct {
	host string
	term int64
}

// startChaosObserver starts one polling loop per member and per sidecar; Stop ends them.
func startChaosObserver(members []*harness.Host, cars *sidecarSet, tl *harness.Timeline) *chaosObserver {
	ctx, cancel := context.WithCancel(context.Background())
	o := &chaosObserver{tl: tl, cancel: cancel, ppt: newPrimaryPerTerm(), spans: map[hostTerm][2]writableObs{},
		actions: map[string]actionSeen{}}
	for _, h := range members {
		o.wg.Go(func() { o.every(ctx, chaosHelloEvery, func(ctx context.Context) { o.hello(ctx, h) }) })
	}
	for _, c := range cars.cars {
		// Only the sidecar's id and address are read here: the test goroutine replaces c.Proc
		// when it restarts the sidecar.
		o.wg.Go(func() { o.every(ctx, chaosStatusEvery, func(ctx context.Context) { o.status(ctx, cars, c) }) })
	}
	return o
}

func (o *chaosObserver) every(ctx context.Context, period time.Duration, poll func(context.Context)) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Stop ends the polling and waits for the loops.
func (o *chaosObserver) Stop() {
	o.cancel()
	o.wg.Wait()
}

func (o *chaosObserver) hello(ctx context.Context, h *harness.Host) {
	hctx, cancel := context.WithTimeout(ctx, chaosHelloTimeout)
	hl, err := h.Hello(hctx)
	cancel()
	if err != nil || hl["isWritablePrimary"] != true {
		return
	}
	eid, ok := hl["electionId"].(bson.ObjectID)
	if !ok {
		o.violation(chaosViolation{Invariant: invOnePrimaryPerTerm, At: time.Now(), Hosts: []string{h.String()},
			Detail: fmt.Sprintf("writable primary without an electionId (%T)", hl["electionId"])})
		return
	}
	obs := writableObs{At: time.Now(), Host: h.String(), Term: int64(binary.BigEndian.Uint64(eid[4:]))}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hellos++
	key := hostTerm{obs.Host, obs.Term}
	span, seen := o.spans[key]
	if !seen {
		span[0] = obs
		o.tl.Mark("observer: %s writable primary in term %d", obs.Host, obs.Term)
	}
	span[1] = obs
	o.spans[key] = span
	if v, bad := o.ppt.observe(obs); bad {
		o.violations = append(o.violations, v)
		o.tl.Mark("VIOLATION %s", v)
	}
}

func (o *chaosObserver) status(ctx context.Context, cars *sidecarSet, c *sidecar) {
	sctx, cancel := context.WithTimeout(ctx, chaosStatusTimeout)
	r, err := cars.Status(sctx, c)
	cancel()
	if err != nil || r.LastAction == nil {
		return
	}
	a := r.LastAction
	seen := actionSeen{At: a.At, Source: "status", Sidecar: r.Sidecar, Action: string(a.Action.Kind), Target: a.Action.Host}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.actions[r.Sidecar+"@"+a.At.Format(time.RFC3339Nano)] = seen
}

func (o *chaosObserver) violation(v chaosViolation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.violations = append(o.violations, v)
	o.tl.Mark("VIOLATION %s", v)
}

// Violations are what the live checks found so far.
func (o *chaosObserver) Violations() []chaosViolation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.violations)
}

// Writable is the first and the last writable hello of every host and term, by time.
func (o *chaosObserver) Writable() []writableObs {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []writableObs
	for _, s := range o.spans {
		out = append(out, s[0], s[1])
	}
	slices.SortFunc(out, func(a, b writableObs) int { return a.At.Compare(b.At) })
	return out
}

// Actions are the executed actions the sidecars' status reported, by time.
func (o *chaosObserver) Actions() []actionSeen {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []actionSeen
	for _, a := range o.actions {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b actionSeen) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Sidecar, b.Sidecar)) })
	return out
}

// Counts are the writable hellos seen and the terms that had a writable primary.
func (o *chaosObserver) Counts() (hellos, terms int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hellos, o.ppt.terms()
}
