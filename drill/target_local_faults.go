package drill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/rsguard/rsguard/lab"
)

// Can says what this machine cannot do: partitions need root, iptables and cgroup v2 (lab's
// reason), and the process faults find mongods in /proc.
func (l *Local) Can(f Fault) error {
	if f == FaultIsolate {
		if err := lab.FirewallAvailable(); err != nil {
			return Unsupported(string(f), err.Error())
		}
	}
	if _, err := os.Stat("/proc/self/cmdline"); err != nil && f != FaultStallDisk && f != FaultLag {
		return Unsupported(string(f), "the local target finds its processes in /proc (Linux only)")
	}
	return nil
}

// mongodOf is the member named name and its running mongod processes, what a process fault
// acts on; an unknown member or one without a mongod is an error naming it.
func (l *Local) mongodOf(name string) (*lab.Host, []int, error) {
	h, err := l.host(name)
	if err != nil {
		return nil, nil, err
	}
	pids, err := mongodPIDs(h)
	if err != nil {
		return nil, nil, err
	}
	return h, pids, nil
}

// mongodPIDs are the running mongod processes of h; none is an error naming the host.
func mongodPIDs(h *lab.Host) ([]int, error) {
	pids, err := h.MongodPIDs()
	if err != nil {
		return nil, err
	}
	if len(pids) == 0 {
		return nil, fmt.Errorf("no mongod runs on %s (dbpath %s)", h, h.DBPath)
	}
	return pids, nil
}

// KillMongod SIGKILLs the host's mongod: a crash, no stepdown. A mongod the lab runs (an
// arbiter's) is started again by the undo on the same dbpath and port; a data member's is run
// by its sidecar (process.controller exec), which restarts it by itself as it would in
// production, and the undo waits until it answers.
func (l *Local) KillMongod(ctx context.Context, host string) (Undo, error) {
	h, err := l.host(host)
	if err != nil {
		return nil, err
	}
	if h.Proc().Running() {
		if err := h.Kill(); err != nil {
			return nil, fmt.Errorf("kill mongod on %s: %w", h, err)
		}
		return func(ctx context.Context) error { return h.Start(ctx) }, nil
	}
	pids, err := mongodPIDs(h)
	if err != nil {
		return nil, err
	}
	if err := lab.SignalPIDs(syscall.SIGKILL, pids...); err != nil {
		return nil, err
	}
	if err := lab.WaitPIDsGone(ctx, pids...); err != nil {
		return nil, fmt.Errorf("kill mongod on %s: %w", h, err)
	}
	l.c.Timeline.Mark("%s: SIGKILL mongod (pid %v)", h, pids)
	return func(ctx context.Context) error { return l.waitAnswering(ctx, h) }, nil
}

// waitAnswering waits until h's mongod answers hello again, restarted by its sidecar.
func (l *Local) waitAnswering(ctx context.Context, h *lab.Host) error {
	return until(ctx, 250*time.Millisecond, fmt.Sprintf("mongod on %s to be restarted by its sidecar", h), func(ctx context.Context) (bool, error) {
		if car := l.cars.ByHost(h); car != nil && !car.Running() {
			return false, fmt.Errorf("its sidecar %s is not running, nobody restarts the mongod", car.ID)
		}
		hctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := h.Hello(hctx)
		return err == nil, err
	})
}

// FreezeHost SIGSTOPs the host's sidecars, then its mongod, and waits until every thread has
// stopped: the host keeps its sockets open and answers nothing. The undo thaws the mongod first,
// so that its sidecar does not wake up to a hung mongod.
func (l *Local) FreezeHost(ctx context.Context, host string) (Undo, error) {
	h, pids, err := l.mongodOf(host)
	if err != nil {
		return nil, err
	}
	var cars []int
	for _, car := range l.cars.Cars {
		if car.Host == h && car.Running() {
			cars = append(cars, car.Proc.Pid())
		}
	}
	thaw := func(ctx context.Context) error {
		err := errors.Join(lab.SignalPIDs(syscall.SIGCONT, pids...), lab.SignalPIDs(syscall.SIGCONT, cars...))
		l.c.Timeline.Mark("%s: SIGCONT mongod %v and sidecars %v", h, pids, cars)
		return errors.Join(err, waitThawed(ctx, append(pids, cars...)))
	}
	err = errors.Join(lab.SignalPIDs(syscall.SIGSTOP, cars...), lab.SignalPIDs(syscall.SIGSTOP, pids...))
	if err == nil {
		err = lab.WaitPIDsStopped(ctx, true, append(pids, cars...)...)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("freeze %s: %w", h, err), thaw(context.WithoutCancel(ctx)))
	}
	l.c.Timeline.Mark("%s: SIGSTOP sidecars %v and mongod %v", h, cars, pids)
	return thaw, nil
}

// waitThawed waits until the processes still alive run again (one killed while frozen, e.g.
// fenced by rsguard, is gone: fine).
func waitThawed(ctx context.Context, pids []int) error {
	var alive []int
	for _, p := range pids {
		if lab.PIDAlive(p) {
			alive = append(alive, p)
		}
	}
	if len(alive) == 0 {
		return nil
	}
	return lab.WaitPIDsStopped(ctx, false, alive...)
}

// Isolate cuts every link between the host and each other host of the set with the lab
// firewall (needs root, iptables and cgroup v2). The firewall, and its machine-wide lock, lives
// as long as the cut: the undo flushes and deletes its chain.
func (l *Local) Isolate(ctx context.Context, host string) (Undo, error) {
	if err := l.Can(FaultIsolate); err != nil {
		return nil, err
	}
	h, err := l.host(host)
	if err != nil {
		return nil, err
	}
	fw, err := lab.NewFirewall(ctx, l.opts.FirewallWait)
	switch {
	case errors.Is(err, lab.ErrFirewallUnavailable):
		return nil, Unsupported(string(FaultIsolate), err.Error())
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		// Another drill or test partitions this machine: not something this run can judge.
		return nil, Unsupported(string(FaultIsolate), fmt.Sprintf("the lab firewall stayed busy for %s (%v): run it again when no other drill or test partitions this machine", l.opts.FirewallWait, err))
	}
	if err != nil {
		return nil, err
	}
	fw.Timeline = l.c.Timeline
	if err := fw.Isolate(h, l.c.Others(h)...); err != nil {
		return nil, errors.Join(fmt.Errorf("isolate %s: %w", h, err), fw.Close())
	}
	return func(context.Context) error { return fw.Close() }, nil
}

// StallDisk blocks the host's storage writes (the emulator's disk-stall fail point, fsyncLock
// on a real mongod) while hello and reads go on. The undo releases it, or is done when the
// stalled mongod is gone (rsguard fenced it and its sidecar started a new one).
func (l *Local) StallDisk(ctx context.Context, host string) (Undo, error) {
	h, pids, err := l.mongodOf(host)
	if err != nil {
		return nil, err
	}
	if err := h.DiskStall(ctx, true); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		return until(ctx, 500*time.Millisecond, "the disk stall of "+h.String()+" released", func(ctx context.Context) (bool, error) {
			if !anyAlive(pids) {
				return true, nil
			}
			err := h.DiskStall(ctx, false)
			return err == nil || lockGone(err), err
		})
	}, nil
}

func anyAlive(pids []int) bool {
	for _, p := range pids {
		if lab.PIDAlive(p) {
			return true
		}
	}
	return false
}

// LagSecondaries stops the hosts' oplog appliers (rsSyncApplyStop); the undo turns the fail
// point off, or is done for a host whose mongod was restarted since (no fail point left).
func (l *Local) LagSecondaries(ctx context.Context, hosts []string) (Undo, error) {
	type lagged struct {
		h    *lab.Host
		pids []int
	}
	var done []lagged
	undo := func(ctx context.Context) error {
		var errs []error
		for _, d := range done {
			errs = append(errs, until(ctx, 500*time.Millisecond, "the applier of "+d.h.String()+" on again", func(ctx context.Context) (bool, error) {
				if !anyAlive(d.pids) {
					return true, nil
				}
				err := d.h.StopApplying(ctx, false)
				return err == nil, err
			}))
		}
		return errors.Join(errs...)
	}
	for _, name := range hosts {
		h, pids, err := l.mongodOf(name)
		if err == nil {
			err = h.StopApplying(ctx, true)
		}
		if err != nil {
			return nil, errors.Join(err, undo(context.WithoutCancel(ctx)))
		}
		done = append(done, lagged{h, pids})
	}
	return undo, nil
}

// KillSidecar SIGKILLs the sidecar's process alone: its mongod (its exec child) keeps running,
// as after a crash of the sidecar under an init system. The undo starts the sidecar again (it
// adopts the running mongod) and waits until it is ready.
func (l *Local) KillSidecar(ctx context.Context, id string) (Undo, error) {
	car := l.cars.ByID(id)
	if car == nil {
		return nil, fmt.Errorf("drill: no sidecar %q in %s", id, l.c)
	}
	if !car.Running() {
		return nil, fmt.Errorf("drill: sidecar %s is not running", id)
	}
	pid := car.Proc.Pid()
	if err := lab.SignalPIDs(syscall.SIGKILL, pid); err != nil {
		return nil, err
	}
	if err := car.Proc.Wait(10 * time.Second); err != nil {
		return nil, fmt.Errorf("kill sidecar %s: %w", id, err)
	}
	l.c.Timeline.Mark("%s: SIGKILL sidecar %s (pid %d)", car.Host, id, pid)
	return func(ctx context.Context) error {
		if !car.Running() {
			if err := l.cars.Start(car); err != nil {
				return err
			}
		}
		return until(ctx, 250*time.Millisecond, "sidecar "+id+" ready again", func(ctx context.Context) (bool, error) {
			code, body, err := l.cars.Ready(ctx, car)
			if err == nil && code != 200 {
				err = fmt.Errorf("/readyz %d: %s", code, body)
			}
			return err == nil, err
		})
	}, nil
}
