package drill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

// Why the remote target cannot inject a fault.
var remoteCannot = map[Fault]string{
	FaultFreeze:      "freezing a host stops its processes (SIGSTOP): only the local target, which owns them, can",
	FaultIsolate:     "isolating a host cuts its links with iptables: it needs root on the hosts, only the local target (root and iptables) can",
	FaultKillSidecar: "a sidecar has no command to stop it: only the local target, which owns the processes, can",
	FaultStale:       "making a member too stale needs it stopped while its oplog window is overwritten and started again: only the local target can",
}

// Can reports the faults the remote target cannot inject.
func (r *Remote) Can(f Fault) error {
	if why, ok := remoteCannot[f]; ok {
		return Unsupported(string(f), why)
	}
	return nil
}

func (r *Remote) FreezeHost(context.Context, string) (Undo, error) { return nil, r.Can(FaultFreeze) }
func (r *Remote) Isolate(context.Context, string) (Undo, error)    { return nil, r.Can(FaultIsolate) }
func (r *Remote) KillSidecar(context.Context, string) (Undo, error) {
	return nil, r.Can(FaultKillSidecar)
}
func (r *Remote) StaleSecondary(context.Context, string) (Undo, error) {
	return nil, r.Can(FaultStale)
}

// KillMongod sends shutdown with force and timeoutSecs 1 (spec §6.9): the closest a client gets
// to a crash, though not one: a primary tries a stepdown and every member quiesces for up to that
// second first (the default would be 15 s). The drill cannot start it again: the undo waits for
// it to answer (a process manager, or rsguard's recovery with a process controller, restarts
// it) and says so when it does not.
func (r *Remote) KillMongod(ctx context.Context, host string) (Undo, error) {
	err := r.with(ctx, host, func(n *mongo.DriverNode) error { return n.Shutdown(ctx, true, time.Second) })
	if err != nil {
		return nil, fmt.Errorf("shutdown force on %s: %w", host, err)
	}
	return func(ctx context.Context) error {
		err := retry(ctx, time.Second, func(ctx context.Context) error {
			return r.with(ctx, host, func(n *mongo.DriverNode) error { _, err := n.Hello(ctx); return err })
		})
		if err != nil {
			return fmt.Errorf("mongod on %s did not come back (%w): the remote target cannot start it; start it on its host or give rsguard a process controller", host, err)
		}
		return nil
	}, nil
}

// StallDisk fsyncLocks host: writes block, hello and reads go on. The undo unlocks it.
func (r *Remote) StallDisk(ctx context.Context, host string) (Undo, error) {
	if err := r.with(ctx, host, func(n *mongo.DriverNode) error { return n.FsyncLock(ctx) }); err != nil {
		return nil, fmt.Errorf("fsyncLock on %s: %w", host, err)
	}
	return func(ctx context.Context) error {
		return retry(ctx, time.Second, func(ctx context.Context) error {
			err := r.with(ctx, host, func(n *mongo.DriverNode) error { return n.FsyncUnlock(ctx) })
			if lockGone(err) {
				return nil
			}
			return err
		})
	}, nil
}

// lockGone says an fsyncUnlock failed because there is no lock left to release: the process
// is gone (a locked primary that cannot step down aborts, spec §5.5; rsguard may fence it), or a
// restarted one answers that it is not locked.
func lockGone(err error) bool {
	switch {
	case err == nil:
		return false
	case mongo.Classify(err) == topology.FailureRefused:
		return true
	default:
		return mongo.HasCode(err, 20) || strings.Contains(err.Error(), "not locked")
	}
}

// LagSecondaries turns mongod's rsSyncApplyStop fail point on for hosts (their appliers stop,
// spec §6.12); the undo turns it off. A mongod without enableTestCommands refuses: unsupported.
func (r *Remote) LagSecondaries(ctx context.Context, hosts []string) (Undo, error) {
	var done []string
	off := func(ctx context.Context) error {
		var errs []error
		for _, h := range done {
			errs = append(errs, retry(ctx, time.Second, func(ctx context.Context) error {
				return r.with(ctx, h, func(n *mongo.DriverNode) error { return n.ConfigureFailPoint(ctx, "rsSyncApplyStop", "off") })
			}))
		}
		return errors.Join(errs...)
	}
	for _, h := range hosts {
		err := r.with(ctx, h, func(n *mongo.DriverNode) error { return n.ConfigureFailPoint(ctx, "rsSyncApplyStop", "alwaysOn") })
		if err != nil {
			undoErr := off(context.WithoutCancel(ctx))
			if mongo.HasCode(err, 59) { // CommandNotFound: test commands are off
				return nil, errors.Join(Unsupported(string(FaultLag), "lag-secondaries needs mongod started with --setParameter enableTestCommands=1 (configureFailPoint)"), undoErr)
			}
			return nil, errors.Join(fmt.Errorf("rsSyncApplyStop on %s: %w", h, err), undoErr)
		}
		done = append(done, h)
	}
	return off, nil
}

// retry calls f every d until it succeeds or ctx ends, returning the last error.
func retry(ctx context.Context, d time.Duration, f func(context.Context) error) error {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		err := f(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}
