package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// EnvMongod names a real mongod binary to run instead of the emulator (DESIGN.md "The emulator
// and real mongod"); a file name starting with "mongoemu" is taken as a prebuilt emulator.
// EnvSupervisor names a prebuilt supervisor binary.
const (
	EnvMongod     = "RSGUARD_MONGOD"
	EnvSupervisor = "RSGUARD_SUPERVISOR"
)

// Binaries are the executables a lab runs.
type Binaries struct {
	// Mongod is the mongod-compatible server: mongoemu, or $RSGUARD_MONGOD.
	Mongod string
	// Supervisor is the rsguard sidecar binary; empty when none was asked for or can be built.
	Supervisor string
	// Emulated is true when Mongod is mongoemu (emulator-only features are available).
	Emulated bool
}

// BinOptions say where binaries come from.
type BinOptions struct {
	// Dir receives what is built (required when something may be built).
	Dir string
	// LookBeside looks for a mongoemu next to the running executable and on PATH before
	// building one (the demo run from an installed binary).
	LookBeside bool
	// Supervisor is the supervisor to use; "" builds ./cmd/supervisor unless $RSGUARD_SUPERVISOR
	// names one, and NoSupervisor leaves it empty.
	Supervisor   string
	NoSupervisor bool
	// Log receives a line per build (nil: silent).
	Log io.Writer
}

// ErrNoSource says there is no mongod to run: no $RSGUARD_MONGOD and no ./cmd/mongoemu to build.
var ErrNoSource = errors.New("no mongod to run")

// IsEmulator applies the name rule: a binary whose file name starts with "mongoemu" is the
// emulator.
func IsEmulator(path string) bool { return strings.HasPrefix(filepath.Base(path), "mongoemu") }

// FindBinaries resolves (and builds, once per call) the binaries: $RSGUARD_MONGOD, else (with
// LookBeside) mongoemu beside this executable or on PATH, else ./cmd/mongoemu built from the
// module root into o.Dir; the supervisor likewise from $RSGUARD_SUPERVISOR or ./cmd/supervisor.
func FindBinaries(ctx context.Context, o BinOptions) (Binaries, error) {
	var b Binaries
	var err error
	if b.Mongod, err = findMongod(ctx, o); err != nil {
		return Binaries{}, err
	}
	b.Emulated = IsEmulator(b.Mongod)
	switch {
	case o.NoSupervisor:
	case o.Supervisor != "":
		b.Supervisor = o.Supervisor
	case os.Getenv(EnvSupervisor) != "":
		b.Supervisor = os.Getenv(EnvSupervisor)
	default:
		root, err := ModuleRoot()
		if err != nil {
			return Binaries{}, fmt.Errorf("supervisor binary: set $%s or run inside the rsguard module: %w", EnvSupervisor, err)
		}
		if b.Supervisor, err = goBuild(ctx, o, root, "./cmd/supervisor", "supervisor"); err != nil {
			return Binaries{}, err
		}
	}
	return b, nil
}

func findMongod(ctx context.Context, o BinOptions) (string, error) {
	if p := os.Getenv(EnvMongod); p != "" {
		if !isExecutable(p) {
			if lp, err := exec.LookPath(p); err == nil {
				return lp, nil
			}
			return "", fmt.Errorf("$%s=%s is not an executable file", EnvMongod, p)
		}
		return p, nil
	}
	if o.LookBeside {
		if exe, err := os.Executable(); err == nil {
			if p := filepath.Join(filepath.Dir(exe), "mongoemu"); isExecutable(p) {
				return p, nil
			}
		}
		if p, err := exec.LookPath("mongoemu"); err == nil {
			return p, nil
		}
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("%w: set %s=/path/to/mongod, put mongoemu on PATH, "+
			"or run from a checkout of rsguard (%w)", ErrNoSource, EnvMongod, err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "mongoemu")); err != nil {
		return "", fmt.Errorf("%w: %s/cmd/mongoemu does not exist and $%s is unset", ErrNoSource, root, EnvMongod)
	}
	return goBuild(ctx, o, root, "./cmd/mongoemu", "mongoemu")
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

func goBuild(ctx context.Context, o BinOptions, root, pkg, name string) (string, error) {
	if o.Dir == "" {
		return "", fmt.Errorf("build %s: no directory for binaries (BinOptions.Dir)", pkg)
	}
	out := filepath.Join(o.Dir, name)
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	if o.Log != nil {
		what := "the supervisor"
		if name == "mongoemu" {
			what = "the MongoDB emulator"
		}
		fmt.Fprintf(o.Log, "building %s: go build -o %s %s (in %s)\n", what, out, pkg, root)
		if name == "mongoemu" && o.LookBeside {
			fmt.Fprintf(o.Log, "  (no %s set, no mongoemu next to this binary or on PATH)\n", EnvMongod)
		}
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, pkg)
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(buf.String()))
	}
	if o.Log != nil {
		fmt.Fprintf(o.Log, "  built in %s\n", time.Since(start).Round(100*time.Millisecond))
	}
	return out, nil
}

// ModuleRoot walks up from the working directory to rsguard's go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/rsguard/rsguard\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the working directory is not inside the rsguard module")
		}
		dir = parent
	}
}
