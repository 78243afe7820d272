package e2e

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/rsguard/rsguard/e2e/harness"
)

// chaosLab applies the schedule's faults to a drill set with its sidecars, one at a time, and
// undoes them: the fault in place is always undone, at the end of its hold or when the test ends.
type chaosLab struct {
	t    *testing.T
	d    *drillSet
	cars *sidecarSet
	fw   *harness.Firewall // nil without link cuts
	undo func(ctx context.Context) error
}

// newChaosLab registers the cleanup that undoes a fault left in place by a failure, before the
// cluster's own cleanup (LIFO): never a frozen or stalled process at shutdown.
func newChaosLab(t *testing.T, d *drillSet, cars *sidecarSet, fw *harness.Firewall) *chaosLab {
	l := &chaosLab{t: t, d: d, cars: cars, fw: fw}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := l.undoFault(ctx); err != nil {
			t.Logf("chaos cleanup: %v", err)
		}
	})
	return l
}

// hosts are every leased address: the data members and the arbiter sidecar's own host.
func (l *chaosLab) hosts() []*harness.Host { return append(slices.Clone(l.d.data), l.d.bare...) }

// apply injects f against the set as it is now and returns what was done. The fault stays in
// place until undoFault.
func (l *chaosLab) apply(ctx context.Context, f chaosFault) (string, error) {
	if l.undo != nil {
		return "", errors.New("chaos: a fault is already in place")
	}
	p, err := l.d.c.Primary(ctx)
	if err != nil {
		return "", fmt.Errorf("no primary to aim at: %w", err)
	}
	secondaries := slices.DeleteFunc(slices.Clone(l.d.data), func(h *harness.Host) bool { return h == p })
	target := p
	if !f.OnPrimary {
		target = secondaries[f.Other%len(secondaries)]
	}
	role := func(h *harness.Host) string {
		switch {
		case h == p:
			return "primary " + h.String()
		case slices.Contains(l.d.bare, h):
			return "arbiter sidecar's host " + h.Addr
		}
		return "secondary " + h.String()
	}
	switch f.Kind {
	case chaosKill:
		if err := target.Kill(); err != nil {
			return "", err
		}
		l.undo = func(ctx context.Context) error { return l.restartMongod(ctx, target) }
		return "SIGKILL mongod of the " + role(target), nil
	case chaosFreeze:
		return l.freezeHost(target, role(target))
	case chaosLinkCut:
		rest := slices.DeleteFunc(l.hosts(), func(h *harness.Host) bool { return h == target })
		peer := rest[f.Peer%len(rest)]
		l.fw.Cut(target.Addr, peer.Addr)
		l.undo = func(context.Context) error { l.fw.Heal(target.Addr, peer.Addr); return nil }
		return fmt.Sprintf("cut the link between the %s and the %s", role(target), role(peer)), nil
	case chaosLag:
		if err := l.d.c.LagSecondaries(ctx, true, secondaries...); err != nil {
			return "", err
		}
		l.undo = func(ctx context.Context) error {
			var errs []error
			for _, h := range secondaries {
				if h.Running() {
					errs = append(errs, h.StopApplying(ctx, false))
				}
			}
			return errors.Join(errs...)
		}
		return fmt.Sprintf("secondaries %s stop applying", secondaries), nil
	case chaosDiskStall:
		if err := target.DiskStall(ctx, true); err != nil {
			return "", err
		}
		l.undo = func(ctx context.Context) error {
			if !target.Running() {
				return nil // fenced by its sidecar: the heal restarts it
			}
			return target.DiskStall(ctx, false)
		}
		return "disk stall on the " + role(target), nil
	case chaosSidecarKill:
		var c *sidecar
		if f.OnPrimary {
			c = l.cars.ByHost(p)
		} else {
			others := slices.DeleteFunc(slices.Clone(l.cars.cars), func(c *sidecar) bool { return c.Host == p })
			c = others[f.Other%len(others)]
		}
		if err := c.Proc.Kill(); err != nil {
			return "", fmt.Errorf("SIGKILL sidecar %s: %w", c.ID, err)
		}
		l.d.c.Timeline.Mark("SIGKILL sidecar %s", c.ID)
		l.undo = func(context.Context) error { l.cars.StartOne(l.t, c); return nil }
		return fmt.Sprintf("SIGKILL sidecar %s beside the %s", c.ID, role(c.Host)), nil
	}
	return "", fmt.Errorf("chaos: unknown fault kind %q", f.Kind)
}

// freezeHost SIGSTOPs everything on h: its mongod and its sidecar (a hung host).
func (l *chaosLab) freezeHost(h *harness.Host, role string) (string, error) {
	c := l.cars.ByHost(h)
	if err := h.Freeze(); err != nil {
		return "", err
	}
	if err := c.Proc.Signal(syscall.SIGSTOP); err != nil {
		_ = h.Thaw()
		return "", fmt.Errorf("SIGSTOP sidecar %s: %w", c.ID, err)
	}
	l.d.c.Timeline.Mark("SIGSTOP sidecar %s", c.ID)
	l.undo = func(context.Context) error {
		errs := []error{c.Proc.Signal(syscall.SIGCONT), h.Thaw()}
		l.d.c.Timeline.Mark("SIGCONT sidecar %s", c.ID)
		return errors.Join(errs...)
	}
	return fmt.Sprintf("freeze the %s (mongod and sidecar %s)", role, c.ID), nil
}

// undoFault undoes the fault in place, if any.
func (l *chaosLab) undoFault(ctx context.Context) error {
	if l.undo == nil {
		return nil
	}
	undo := l.undo
	l.undo = nil
	return undo(ctx)
}

func (l *chaosLab) restartMongod(ctx context.Context, h *harness.Host) error {
	if h.Running() {
		return nil
	}
	return h.Start(ctx)
}

// heal brings back what the faults and rsguard's own actions left down (a mongod its sidecar
// fenced) and waits until the set has a primary, every member is healthy and every sidecar is
// ready. A sidecar that exited by itself is a failure: nothing in the schedule stops one for
// good.
func (l *chaosLab) heal(ctx context.Context, timeout time.Duration) (*harness.Host, error) {
	for _, c := range l.cars.cars {
		if !c.Running() {
			return nil, fmt.Errorf("sidecar %s exited by itself (%s):\n%s", c.ID, c.Proc.ExitState(), c.Proc.Tail(30))
		}
	}
	for _, h := range l.d.data {
		if !h.Running() {
			l.d.c.Timeline.Mark("heal: restart mongod %s (%s: fenced?)", h, h.Proc().ExitState())
			if err := h.Start(ctx); err != nil {
				return nil, err
			}
		}
	}
	var p *harness.Host
	err := harness.Poll(ctx, timeout, func(ctx context.Context) error {
		var err error
		if p, err = l.d.healthy(ctx); err != nil {
			return err
		}
		for _, c := range l.cars.cars {
			if err := l.cars.api(c, "").Ready(ctx); err != nil {
				return fmt.Errorf("sidecar %s not ready: %w", c.ID, err)
			}
		}
		return nil
	})
	return p, err
}

// quiet waits d while no invariant breaks (the live checks of the observer), never sleeping
// past a violation.
func (l *chaosLab) quiet(d time.Duration, obs *chaosObserver) error {
	if d <= 0 {
		return nil
	}
	errHeld := errors.New("held")
	err := harness.Poll(context.Background(), d, func(context.Context) error {
		if vs := obs.Violations(); len(vs) > 0 {
			return harness.Abort(fmt.Errorf("VIOLATION %s", vs[0]))
		}
		return errHeld
	})
	if errors.Is(err, errHeld) {
		return nil
	}
	return err
}

// chaosFirewall is harness.NewFirewall for a soak that can do without link cuts: where the
// firewall cannot be set up (not root, no iptables, no cgroup match) it returns the reason
// instead of skipping the whole test.
func chaosFirewall(t testing.TB) (fw *harness.Firewall, why string, err error) {
	why, err = catchSkip(t, func(tb testing.TB) error {
		fw, err = harness.NewFirewall(tb)
		return err
	})
	if why != "" {
		return nil, why, nil
	}
	return fw, "", err
}

// catchSkip runs f with a testing.TB whose Skip methods return from f with the reason instead of
// ending the test; everything else goes to t.
func catchSkip(t testing.TB, f func(tb testing.TB) error) (why string, err error) {
	sc := &skipCatcher{TB: t}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(skipCaught); !ok {
				panic(r)
			}
			why, err = cmp.Or(sc.reason, "skipped"), nil
		}
	}()
	return "", f(sc)
}

// skipCatcher turns a Skip into a panic that chaosFirewall recovers; everything else (Cleanup,
// Fatal, Helper) goes to the test.
type skipCatcher struct {
	testing.TB
	reason string
}

type skipCaught struct{}

func (s *skipCatcher) Skip(args ...any) { s.reason = fmt.Sprint(args...); panic(skipCaught{}) }
func (s *skipCatcher) Skipf(format string, args ...any) {
	s.reason = fmt.Sprintf(format, args...)
	panic(skipCaught{})
}
func (s *skipCatcher) SkipNow() { panic(skipCaught{}) }
