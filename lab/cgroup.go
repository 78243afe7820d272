package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Every host's processes (its mongod and sidecars) run in a cgroup v2 group named after the host
// address, <cgroup2 mount>/rsguard-e2e/127.0.0.N. Two reasons:
//
//   - mongod (and mongoemu) dial peers without binding a source address, so on loopback every
//     intra-cluster packet leaves from 127.0.0.1; only the cgroup tells iptables which host sent
//     it (`-m cgroup --path`), which is what makes partitions between processes possible.
//   - cgroup.kill reaps a host's processes left over by a test binary that died without cleanup.
//
// Without root or cgroup v2, hosts run without a group (processes still work; partitions skip).
const cgroupParent = "rsguard-e2e"

type hostCgroup struct {
	dir  string // filesystem path
	path string // path inside the cgroup2 hierarchy, for iptables --path
}

var cgroup2 struct {
	once  sync.Once
	mount string // mount point of the cgroup2 hierarchy ("" = unavailable)
	root  string // hierarchy path of that mount's root
	why   string // reason it is unavailable
}

func detectCgroup2() {
	if os.Geteuid() != 0 {
		cgroup2.why = "not running as root"
		return
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		cgroup2.why = err.Error()
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent maj:min root mountpoint options [optional...] - fstype source superopts
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		fields := strings.Fields(pre)
		if len(fields) < 5 {
			continue
		}
		cgroup2.root, cgroup2.mount = fields[3], fields[4]
		break
	}
	if cgroup2.mount == "" {
		cgroup2.why = "no cgroup2 mount in /proc/self/mountinfo"
		return
	}
	if err := os.MkdirAll(filepath.Join(cgroup2.mount, cgroupParent), 0o755); err != nil {
		cgroup2.why = fmt.Sprintf("cannot create a cgroup: %v", err)
		cgroup2.mount = ""
	}
}

// cgroupsAvailable reports whether hosts get cgroups, and why not.
func cgroupsAvailable() (bool, string) {
	cgroup2.once.Do(detectCgroup2)
	return cgroup2.mount != "", cgroup2.why
}

// cgroupPathFor is the hierarchy path of addr's host cgroup.
func cgroupPathFor(addr string) string {
	return filepath.Join("/", cgroup2.root, cgroupParent, addr)
}

// openHostCgroup creates (or reuses) addr's cgroup and kills any process still in it: the caller
// holds addr's lease, so whatever runs there was left behind by a dead test binary.
func openHostCgroup(addr string) (*hostCgroup, error) {
	if ok, _ := cgroupsAvailable(); !ok {
		return nil, nil
	}
	cg := &hostCgroup{dir: filepath.Join(cgroup2.mount, cgroupParent, addr), path: cgroupPathFor(addr)}
	if err := os.Mkdir(cg.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("cgroup for %s: %w", addr, err)
	}
	if err := cg.killAll(context.Background()); err != nil {
		return nil, fmt.Errorf("stale processes in %s: %w", cg.dir, err)
	}
	return cg, nil
}

func (cg *hostCgroup) pids() ([]int, error) {
	b, err := os.ReadFile(filepath.Join(cg.dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// killAll SIGKILLs every process in the group and waits until it is empty.
func (cg *hostCgroup) killAll(ctx context.Context) error {
	return Poll(ctx, 10*time.Second, func(context.Context) error {
		pids, err := cg.pids()
		if err != nil || len(pids) == 0 {
			return err
		}
		if os.WriteFile(filepath.Join(cg.dir, "cgroup.kill"), []byte("1"), 0) != nil {
			for _, pid := range pids { // kernels before 5.14 have no cgroup.kill
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		return fmt.Errorf("%d processes left: %v", len(pids), pids)
	})
}

// add moves pid into the group (fallback when clone3 CLONE_INTO_CGROUP is unavailable).
func (cg *hostCgroup) add(pid int) error {
	return os.WriteFile(filepath.Join(cg.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
}

// remove deletes the (empty) group.
func (cg *hostCgroup) remove() error {
	if err := cg.killAll(context.Background()); err != nil {
		return err
	}
	return syscall.Rmdir(cg.dir)
}
