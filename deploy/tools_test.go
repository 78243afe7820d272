package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// run runs a command from the repository root with a deadline and fails with its output.
func run(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = root(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestPromtoolRules: the alert rules load, and their unit tests (rsguard-rules.test.yml) pass;
// the Prometheus config with its rule file is valid.
func TestPromtoolRules(t *testing.T) {
	promtool := lookTool(t, "promtool", "prometheus")
	run(t, time.Minute, promtool, "check", "rules", "deploy/prometheus/rsguard-rules.yml")
	run(t, 2*time.Minute, promtool, "test", "rules", "deploy/prometheus/rsguard-rules.test.yml")
	run(t, time.Minute, promtool, "check", "config", "deploy/prometheus/prometheus.yml")
}

// TestComposeConfig: docker-compose parses the file (it resolves the anchors, the build
// contexts and the volume and network references).
func TestComposeConfig(t *testing.T) {
	if p, err := exec.LookPath("docker-compose"); err == nil {
		run(t, time.Minute, p, "-f", "docker-compose.yml", "config", "-q")
		return
	}
	if p, err := exec.LookPath("docker"); err == nil && exec.Command(p, "compose", "version").Run() == nil {
		run(t, time.Minute, p, "compose", "-f", "docker-compose.yml", "config", "-q")
		return
	}
	t.Skip("neither docker-compose (Debian package docker-compose) nor the docker compose plugin is installed: skipped")
}

// TestDockerBuild builds the sidecar image where a Docker engine answers. It pulls golang:1.26
// and mongo:7.0 and compiles, so it also needs RSGUARD_DOCKER_BUILD=1 (or CI) and not -short.
func TestDockerBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipped")
	}
	docker := lookTool(t, "docker", "docker.io")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, docker, "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker engine answers (docker info: %v: %s): skipped", err, strings.TrimSpace(string(out)))
	}
	if os.Getenv("RSGUARD_DOCKER_BUILD") == "" && os.Getenv("CI") == "" {
		t.Skip("a Docker engine answers, but the build pulls images and takes minutes: set RSGUARD_DOCKER_BUILD=1 to run it")
	}
	run(t, 20*time.Minute, docker, "build", "-t", "rsguard:test", ".")
	out := run(t, time.Minute, docker, "run", "--rm", "rsguard:test", "--help")
	if !strings.Contains(out, "validate-config") {
		t.Errorf("the image's entrypoint is not the supervisor: --help printed\n%s", out)
	}
}
