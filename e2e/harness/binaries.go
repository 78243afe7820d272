package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// EnvMongod names a real mongod binary to use instead of the emulator (DESIGN.md "The emulator
// and real mongod"); a file name starting with "mongoemu" is taken as a prebuilt emulator.
// EnvSupervisor names a prebuilt supervisor binary.
const (
	EnvMongod     = "RSGUARD_MONGOD"
	EnvSupervisor = "RSGUARD_SUPERVISOR"
)

// Binaries are the executables an e2e test runs.
type Binaries struct {
	// Mongod is the mongod-compatible server: the built mongoemu, or $RSGUARD_MONGOD.
	Mongod string
	// Supervisor is the built ./cmd/supervisor (or $RSGUARD_SUPERVISOR); empty while that
	// command does not exist yet.
	Supervisor string
	// Emulated is true when Mongod is mongoemu (emulator-only features are available).
	Emulated bool
}

var build struct {
	once sync.Once
	dir  string
	bins Binaries
	err  error
	skip string
}

// BuildOnce builds ./cmd/mongoemu and, if present, ./cmd/supervisor into a temp dir shared by
// the whole test binary (once), and returns their paths. $RSGUARD_MONGOD replaces the
// emulator; the test is skipped while ./cmd/mongoemu does not exist and no real mongod is set.
func BuildOnce(t testing.TB) (mongod, supervisor string) {
	t.Helper()
	b := Build(t)
	return b.Mongod, b.Supervisor
}

// Build is BuildOnce returning the full Binaries.
func Build(t testing.TB) Binaries {
	t.Helper()
	build.once.Do(doBuild)
	if build.skip != "" {
		t.Skip(build.skip)
	}
	if build.err != nil {
		t.Fatalf("e2e binaries: %v", build.err)
	}
	return build.bins
}

// isEmulator: a $RSGUARD_MONGOD whose file name starts with "mongoemu" is a prebuilt emulator.
func isEmulator(path string) bool { return strings.HasPrefix(filepath.Base(path), "mongoemu") }

func doBuild() {
	root, err := ModuleRoot()
	if err != nil {
		build.err = err
		return
	}
	build.dir, err = os.MkdirTemp("", "rsguard-e2e-bin-")
	if err != nil {
		build.err = err
		return
	}
	if real := os.Getenv(EnvMongod); real != "" {
		if _, err := exec.LookPath(real); err != nil {
			build.err = fmt.Errorf("$%s=%s: %w", EnvMongod, real, err)
			return
		}
		build.bins.Mongod = real
		build.bins.Emulated = isEmulator(real)
	} else {
		if _, err := os.Stat(filepath.Join(root, "cmd", "mongoemu")); err != nil {
			build.skip = fmt.Sprintf("e2e: %s/cmd/mongoemu does not exist yet and $%s is unset", root, EnvMongod)
			return
		}
		if build.bins.Mongod, build.err = goBuild(root, "./cmd/mongoemu", "mongoemu"); build.err != nil {
			return
		}
		build.bins.Emulated = true
	}
	if sup := os.Getenv(EnvSupervisor); sup != "" {
		build.bins.Supervisor = sup
	} else if _, err := os.Stat(filepath.Join(root, "cmd", "supervisor")); err == nil {
		build.bins.Supervisor, build.err = goBuild(root, "./cmd/supervisor", "supervisor")
	}
}

func goBuild(root, pkg, name string) (string, error) {
	out := filepath.Join(build.dir, name)
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	cmd := exec.Command(goBin, "build", "-o", out, pkg)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return out, nil
}

// ModuleRoot walks up from the working directory to the directory holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Main runs the tests and removes the shared build directory afterwards. Use it from the e2e
// package's TestMain: func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	return code
}
