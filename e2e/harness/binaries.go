package harness

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/rsguard/rsguard/lab"
)

// EnvMongod names a real mongod binary to use instead of the emulator; a file name starting
// with "mongoemu" is taken as a prebuilt emulator. EnvSupervisor names a prebuilt supervisor.
const (
	EnvMongod     = lab.EnvMongod
	EnvSupervisor = lab.EnvSupervisor
)

// Binaries are the executables an e2e test runs.
type Binaries = lab.Binaries

// build is the test binary's one build (a test binary is one process: its binaries are built
// once and removed by Main).
var build struct {
	once sync.Once
	dir  string
	bins Binaries
	err  error
	skip string
}

// BuildOnce builds ./cmd/mongoemu and ./cmd/supervisor into a temp dir shared by the whole test
// binary (once), and returns their paths. $RSGUARD_MONGOD replaces the emulator; the test is
// skipped while ./cmd/mongoemu does not exist and no real mongod is set.
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

func doBuild() {
	build.dir, build.err = os.MkdirTemp("", "rsguard-e2e-bin-")
	if build.err != nil {
		return
	}
	build.bins, build.err = lab.FindBinaries(context.Background(), lab.BinOptions{Dir: build.dir})
	if errors.Is(build.err, lab.ErrNoSource) {
		build.skip, build.err = "e2e: "+build.err.Error(), nil
	}
}

// ModuleRoot walks up from the working directory to rsguard's go.mod.
func ModuleRoot() (string, error) { return lab.ModuleRoot() }

// Main runs the tests and removes the shared build directory afterwards. Use it from the e2e
// package's TestMain: func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	return code
}
