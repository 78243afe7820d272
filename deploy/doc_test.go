// Package deploy_test checks the docker-compose deployment, the Prometheus rules, the Grafana
// dashboard, the metrics catalogue (docs/metrics.md), the reason codes and the CLI commands the
// docs show against the code, without starting any process of the deployment. The checks that need an external tool (docker-compose, docker,
// promtool) skip with the reason when it is missing; CI installs Debian's docker-compose and
// prometheus packages.
package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// root is the repository root (the parent of deploy/, the test's working directory).
func root(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// readFile reads a file of the repository by its path from the root.
func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return data
}

// lookTool returns the path of a tool on PATH, or skips the test naming what installs it.
func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not on PATH (Debian package %s): skipped", name, pkg)
	}
	return p
}
