package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MongodPIDs are the live processes running this host's mongod, whoever started them: the lab,
// a sidecar's exec controller, or none of them any more (a mongod adopted by a restarted
// sidecar is nobody's child). They are found by their command line's --dbpath in /proc, so it
// works on Linux only; zombies are not counted.
func (h *Host) MongodPIDs() ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("%s: mongod processes: %w", h, err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if i := slices.Index(args, "--dbpath"); i >= 0 && i+1 < len(args) && args[i+1] == h.DBPath && PIDAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// PIDAlive reports whether pid exists and is not a zombie.
func PIDAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

// SignalPIDs sends sig to each pid (not to their groups); a pid already gone is skipped.
func SignalPIDs(sig syscall.Signal, pids ...int) error {
	var errs []error
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("signal %v to pid %d: %w", sig, pid, err))
		}
	}
	return errors.Join(errs...)
}

// WaitPIDsGone polls until none of pids is alive (up to 10s, or ctx's end if sooner).
func WaitPIDsGone(ctx context.Context, pids ...int) error {
	return Poll(ctx, 10*time.Second, func(context.Context) error {
		for _, pid := range pids {
			if PIDAlive(pid) {
				return fmt.Errorf("pid %d still alive", pid)
			}
		}
		return nil
	})
}

// WaitPIDsStopped polls /proc until every thread of each pid is stopped (stopped true) or none
// is (false): kill(2) returns before the threads have actually stopped, and a frozen process
// must not answer one more request. A pid that is gone ends the wait with an error.
func WaitPIDsStopped(ctx context.Context, stopped bool, pids ...int) error {
	return Poll(ctx, 5*time.Second, func(context.Context) error {
		for _, pid := range pids {
			if !PIDAlive(pid) {
				return Abort(fmt.Errorf("pid %d: %w", pid, ErrNotRunning))
			}
			tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
			if err != nil || len(tasks) == 0 {
				return fmt.Errorf("pid %d: no threads in /proc: %v", pid, err)
			}
			for _, task := range tasks {
				b, err := os.ReadFile(task)
				if err != nil {
					return err
				}
				_, rest, _ := strings.Cut(string(b), ") ")
				if isStopped := strings.HasPrefix(rest, "T") || strings.HasPrefix(rest, "t"); isStopped != stopped {
					return fmt.Errorf("pid %d: thread %s in state %.1s", pid, task, rest)
				}
			}
		}
		return nil
	})
}
