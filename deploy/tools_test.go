package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
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

// TestPromtoolDashboardQueries: every query of the Grafana dashboard parses as PromQL. promtool
// has no offline query check, so the queries become recording rules of a temporary rule file,
// with Grafana's variables replaced by values.
func TestPromtoolDashboardQueries(t *testing.T) {
	promtool := lookTool(t, "promtool", "prometheus")
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Annotations struct {
			List []struct {
				Name string `json:"name"`
				Expr string `json:"expr"`
			} `json:"list"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(readFile(t, "deploy/grafana/rsguard.json"), &d); err != nil {
		t.Fatalf("deploy/grafana/rsguard.json: %v", err)
	}
	vars := strings.NewReplacer("$replica_set", "rs0", "$__rate_interval", "1m", "$__range", "1h")
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	add := func(where, expr string) {
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query_%d", len(rules)), Expr: vars.Replace(expr)})
		t.Logf("dashboard:query_%d is %s", len(rules)-1, where)
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			add("panel "+p.Title, tg.Expr)
		}
	}
	for _, a := range d.Annotations.List {
		add("annotation "+a.Name, a.Expr)
	}
	out, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dashboard-queries.yml")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, time.Minute, promtool, "check", "rules", file)
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
