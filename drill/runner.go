package drill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Runner defaults.
const (
	DefaultWarmup         = 10
	DefaultWaitTimeout    = 60 * time.Second
	DefaultRecoverTimeout = 90 * time.Second
	DefaultPoll           = 250 * time.Millisecond
)

// Options configure a Runner.
type Options struct {
	// Workload: zero clients of every kind means 1 w:"majority" writer, 1 w:1 writer, 1
	// reader and 1 register client.
	Workload WorkloadOptions
	// Warmup is how many w:"majority" inserts must be acknowledged before the fault.
	Warmup int
	// WaitTimeout bounds the warm-up and what a scenario waits for under the fault;
	// RecoverTimeout the undo, the subject's recovery and the read-back.
	WaitTimeout, RecoverTimeout time.Duration
	// Poll is how often the set is observed.
	Poll time.Duration
	// RollbackWait bounds the wait for a rolled-back former primary's archive event.
	RollbackWait time.Duration
	// Observer hears the steps (a progress bar); nil for none.
	Observer Observer
	// OpenStore opens the workloads' client on a fresh collection; nil: DialStore.
	OpenStore StoreOpener
}

// StoreOpener opens the workloads' client for one run on collection coll.
type StoreOpener func(ctx context.Context, seeds Seeds, coll string) (Store, func(context.Context) error, error)

// Observer hears a run's progress.
type Observer interface {
	Step(scenario string, run int, step string)
	Done(r Result)
}

type nopObserver struct{}

func (nopObserver) Step(string, int, string) {}
func (nopObserver) Done(Result)              {}

func (o Options) withDefaults() Options {
	w := o.Workload
	if w.Majority == 0 && w.W1 == 0 && w.Readers == 0 && w.Registers == 0 {
		// Two register clients: one client's history cannot show another's write missed.
		w.Majority, w.W1, w.Readers, w.Registers = 1, 1, 1, 2
	}
	o.Workload = w.withDefaults()
	if o.Warmup <= 0 {
		o.Warmup = DefaultWarmup
	}
	if o.RollbackWait <= 0 {
		o.RollbackWait = DefaultRollbackWait
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	if o.RecoverTimeout <= 0 {
		o.RecoverTimeout = DefaultRecoverTimeout
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.OpenStore == nil {
		o.OpenStore = DialStore
	}
	return o
}

// Runner runs scenarios on one target, one at a time.
type Runner struct {
	log    *slog.Logger
	target Target
	opts   Options
}

// NewRunner returns a runner for target.
func NewRunner(log *slog.Logger, target Target, opts Options) *Runner {
	return &Runner{log: log, target: target, opts: opts.withDefaults()}
}

// RunAll runs every scenario runs times (scenario by scenario) and returns the results in order.
// A run that fails does not stop the others; a cancelled ctx does.
func (r *Runner) RunAll(ctx context.Context, scs []Scenario, runs int) []Result {
	var out []Result
	for _, sc := range scs {
		for i := 1; i <= max(runs, 1); i++ {
			if ctx.Err() != nil {
				return out
			}
			out = append(out, r.Run(ctx, sc, i))
		}
	}
	return out
}

// Run runs one scenario once: warm-up, fault, waits, undo (always, also on error or when ctx
// ends), recovery, read-back and measurement.
func (r *Runner) Run(ctx context.Context, sc Scenario, run int) Result {
	rec := &Recording{Scenario: sc.Name, Run: run, Target: r.target.Name(), Expect: sc.Expect,
		Start: time.Now(), Every: r.opts.Workload.Every}
	res := r.run(ctx, sc, rec)
	r.opts.Observer.Done(res)
	r.log.Info("drill run ended", "scenario", sc.Name, "run", run, "verdict", res.Verdict, "problems", res.Problems, "skipped", res.Skipped)
	return res
}

func (r *Runner) run(ctx context.Context, sc Scenario, rec *Recording) Result {
	step := func(s string) { r.opts.Observer.Step(sc.Name, rec.Run, s) }
	for _, f := range sc.Faults {
		if err := r.target.Can(f); err != nil {
			return early(rec, VerdictSkip, err)
		}
	}
	step("prepare")
	ms, err := r.prepare(ctx)
	if err != nil {
		return early(rec, VerdictError, err)
	}
	if sc.Needs != nil {
		if err := sc.Needs(ms); err != nil {
			return early(rec, VerdictSkip, err)
		}
	}
	env := &Env{Target: r.target, Log: r.log, Members: ms, Primary: primaryOf(ms), poll: r.opts.Poll}
	env.Subject = env.Primary
	if sc.Subject != nil {
		env.Subject = sc.Subject(ms)
	}
	rec.Subject, rec.FormerPrimary = env.Subject, env.Primary

	store, closeStore, err := r.opts.OpenStore(ctx, r.target.Seeds(), collection(sc.Name, rec.Run, rec.Start))
	if err != nil {
		return early(rec, VerdictError, fmt.Errorf("workload client: %w", err))
	}
	defer func() { _ = closeStore(context.WithoutCancel(ctx)) }()
	env.watch = startWatcher(ctx, r.target, r.opts.Poll)
	env.store = store
	env.load = StartWorkload(ctx, store, r.opts.Workload)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			env.load.Stop()
			rec.Ops = env.load.Rec.Ops()
			rec.States = env.watch.stop()
		}
	}
	defer stop()

	step("warm-up")
	if err := r.within(ctx, r.opts.WaitTimeout, func(ctx context.Context) error {
		return env.Poll(ctx, fmt.Sprintf("%d acknowledged w:\"majority\" inserts", r.opts.Warmup), func(context.Context) (bool, error) {
			return env.load.Rec.Acked(OpMajority) >= r.opts.Warmup, nil
		})
	}); err != nil {
		return early(rec, VerdictError, fmt.Errorf("warm-up: %w", err))
	}

	step("fault")
	rec.Fault = time.Now()
	env.Fault = rec.Fault
	undo, injectErr := sc.Inject(ctx, env)
	undone := false
	doUndo := func() {
		if undone {
			return
		}
		undone = true
		if undo == nil {
			return
		}
		step("undo")
		if err := r.within(context.WithoutCancel(ctx), r.opts.RecoverTimeout, func(ctx context.Context) error { return undo(ctx) }); err != nil {
			rec.Problems = append(rec.Problems, "undo: "+err.Error())
		}
		rec.Undo = time.Now()
	}
	defer doUndo() // also when a wait below panics or ctx ends
	if errors.Is(injectErr, ErrUnsupported) {
		doUndo()
		return early(rec, VerdictSkip, injectErr)
	}
	if injectErr != nil {
		rec.Problems = append(rec.Problems, "fault: "+injectErr.Error())
	} else {
		step("waiting")
		if err := r.within(ctx, sc.Hold+r.opts.WaitTimeout, func(ctx context.Context) error {
			if err := env.Hold(ctx, sc.Hold); err != nil {
				return err
			}
			if sc.Until != nil {
				return sc.Until(ctx, env)
			}
			return nil
		}); err != nil {
			rec.Problems = append(rec.Problems, err.Error())
		}
	}
	doUndo()
	r.settle(ctx, sc, env, step)

	step("verify")
	stop()
	r.readBack(ctx, env, rec)
	rec.Linearizability = checkRegister(env.load.History)
	rec.Notes = env.notes
	r.collect(ctx, rec)
	r.awaitRollbackArchive(ctx, rec) // Ctrl-C ends the wait too
	rec.End = time.Now()
	res := Measure(*rec)
	if ctx.Err() != nil {
		res.Verdict = VerdictError
		res.Problems = append(res.Problems, "interrupted: "+ctx.Err().Error())
	}
	return res
}

// settle waits, after the undo, for the subject to be back and for writes to flow again, so
// that the measurements see the end of the outage. Not getting there is for Measure to judge.
func (r *Runner) settle(ctx context.Context, sc Scenario, env *Env, step func(string)) {
	if ctx.Err() != nil {
		return
	}
	step("recovery")
	_ = r.within(ctx, r.opts.RecoverTimeout, func(ctx context.Context) error {
		since := time.Now()
		return env.Poll(ctx, "recovery", func(context.Context) (bool, error) {
			back := !sc.Expect.Recovery || env.Subject == ""
			for _, m := range env.watch.latest() {
				if m.Host == env.Subject && (m.Role == RoleSecondary || m.Role == RoleArbiter || (m.Role == RolePrimary && !sc.Expect.Failover)) {
					back = true
				}
			}
			return back && env.ackedAfter(since), nil
		})
	})
}

// within runs f with a deadline of d.
func (r *Runner) within(ctx context.Context, d time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}

// early is the result of a run that stopped before measuring anything.
func early(rec *Recording, v Verdict, err error) Result {
	r := Result{Scenario: rec.Scenario, Run: rec.Run, Target: rec.Target, Verdict: v,
		Subject: rec.Subject, FormerPrimary: rec.FormerPrimary, Problems: rec.Problems}
	if v == VerdictSkip {
		r.Skipped = err.Error()
	} else {
		r.Problems = append(r.Problems, err.Error())
	}
	return r
}

// collection names a run's workload collection: runs never share documents.
func collection(scenario string, run int, at time.Time) string {
	return fmt.Sprintf("%s_%d_%d", scenario, run, at.Unix())
}
