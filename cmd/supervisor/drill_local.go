package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/rsguard/rsguard/drill"
	"github.com/rsguard/rsguard/lab"
)

// drillLocalFlags choose the local set `supervisor drill` starts without --uri.
type drillLocalFlags struct {
	Mongod       string `placeholder:"PATH" env:"RSGUARD_MONGOD" help:"Local set: the mongod to run (a file named mongoemu* is the emulator); default mongoemu beside this binary, on PATH, or built from the checkout."`
	Dir          string `placeholder:"DIR" help:"Local set: keep its data, configs, audit logs and process logs in DIR (empty or absent); default a temporary directory, removed at exit."`
	FirstAddress string `name:"first-address" placeholder:"127.0.0.N" help:"Local set: use 127.0.0.N and the next four addresses (default: the lowest free block from 127.0.0.2)."`
}

// localSet starts the local set and returns it with what to do at exit.
func (f *drillLocalFlags) localSet(e *env, log *slog.Logger) (*drill.LocalSet, func(), error) {
	first, err := f.firstN()
	if err != nil {
		return nil, nil, err
	}
	dir, cleanup, err := f.workDir()
	if err != nil {
		return nil, nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("supervisor drill: cannot find this binary to start the sidecars: %w", err)
	}
	bins := lab.Binaries{Mongod: f.Mongod, Supervisor: exe, Emulated: lab.IsEmulator(f.Mongod)}
	if f.Mongod == "" {
		if bins, err = lab.FindBinaries(e.ctx, lab.BinOptions{Dir: filepath.Join(dir, "bin"), LookBeside: true, Supervisor: exe, Log: e.stderr}); err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("supervisor drill: %w", err)
		}
	}
	fmt.Fprintf(e.stderr, "starting a local set (%s) in %s\n", bins.Mongod, dir)
	set, err := drill.NewLocalSet(e.ctx, log, drill.LocalSetOptions{Dir: dir, Binaries: bins, FirstN: first})
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("supervisor drill: %w", err)
	}
	fmt.Fprintf(e.stderr, "local set ready: %s\n", set.Cluster)
	return set, func() { _ = set.Close(); cleanup() }, nil
}

// firstN parses --first-address.
func (f *drillLocalFlags) firstN() (int, error) {
	if f.FirstAddress == "" {
		return 0, nil
	}
	a, err := netip.ParseAddr(f.FirstAddress)
	var b [4]byte
	if err == nil && a.Is4() {
		b = a.As4()
	}
	if b[0] != 127 || b[1] != 0 || b[2] != 0 || int(b[3]) < lab.MinN || int(b[3])+4 > lab.MaxN {
		return 0, fail(exitUsage, "supervisor drill: --first-address %q: want 127.0.0.N with N from %d to %d", f.FirstAddress, lab.MinN, lab.MaxN-4)
	}
	return int(b[3]), nil
}

// workDir is --dir (kept) or a temporary directory (removed by cleanup).
func (f *drillLocalFlags) workDir() (dir string, cleanup func(), err error) {
	if f.Dir == "" {
		dir, err := os.MkdirTemp("", "rsguard-drill-")
		if err != nil {
			return "", nil, fmt.Errorf("supervisor drill: %w", err)
		}
		return dir, func() { _ = os.RemoveAll(dir) }, nil
	}
	dir, err = filepath.Abs(f.Dir)
	if err != nil {
		return "", nil, fail(exitUsage, "supervisor drill: --dir %q: %v", f.Dir, err)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", nil, fail(exitUsage, "supervisor drill: --dir %s is not empty: the drill initiates a fresh replica set there", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fail(exitUsage, "supervisor drill: --dir: %v", err)
	}
	return dir, func() {}, nil
}

// localOnly says which local-set flags were given with --uri.
func (f *drillLocalFlags) given() string {
	var names []string
	if f.Dir != "" {
		names = append(names, "--dir")
	}
	if f.FirstAddress != "" {
		names = append(names, "--first-address")
	}
	return strings.Join(names, ", ")
}
