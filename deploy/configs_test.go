package deploy_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rsguard/rsguard/config"
)

// The sidecar configs of the compose deployment, by service name (= sidecar id).
var sidecars = []string{"node-a", "node-b", "node-c", "arbiter"}

// Where the containers see things (docker-compose.yml mounts).
const (
	containerConfig  = "/etc/rsguard/rsguard.yaml"
	containerSecrets = "/etc/rsguard/secrets"
)

// loadSidecars lays the configs out as a container sees them (the file in a directory whose
// secrets/ holds what deploy/scripts/keygen.sh generates, run here for real) and loads each with
// config.Load.
func loadSidecars(t *testing.T) map[string]*config.Config {
	t.Helper()
	lookTool(t, "sh", "dash")
	dir := t.TempDir()
	keygen := exec.Command("sh", filepath.Join(root(t), "deploy/scripts/keygen.sh"), filepath.Join(dir, "secrets"))
	keygen.Env = append(os.Environ(), fmt.Sprintf("RSGUARD_UID=%d", os.Getuid()))
	if out, err := keygen.CombinedOutput(); err != nil {
		t.Fatalf("deploy/scripts/keygen.sh: %v\n%s", err, out)
	}
	cfgs := map[string]*config.Config{}
	for _, id := range sidecars {
		path := filepath.Join(dir, id+".yaml")
		if err := os.WriteFile(path, readFile(t, "deploy/rsguard/"+id+".yaml"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(path)
		if err != nil {
			t.Fatalf("deploy/rsguard/%s.yaml does not load:\n%v", id, err)
		}
		cfgs[id] = c
	}
	return cfgs
}

func TestSidecarConfigsLoadAndAgree(t *testing.T) {
	cfgs := loadSidecars(t)
	list := make([]*config.Config, 0, len(sidecars))
	for _, id := range sidecars {
		list = append(list, cfgs[id])
	}
	if err := config.CrossCheck(list); err != nil {
		t.Fatalf("the sidecar configs disagree (supervisor validate-config deploy/rsguard/*.yaml):\n%v", err)
	}
	var data, arbiters int
	for _, id := range sidecars {
		c := cfgs[id]
		if c.ID != id {
			t.Errorf("deploy/rsguard/%s.yaml: id is %q, want the compose service name %q", id, c.ID, id)
		}
		if len(c.Gossip.Keyring) == 0 {
			t.Errorf("%s: gossip runs without a keyring", id)
		}
		if c.HTTP.AdminToken.Reveal() == "" {
			t.Errorf("%s: no admin token: the CLI's admin verbs would be refused", id)
		}
		if !c.MemberAccess().Password.IsSet() {
			t.Errorf("%s: no MongoDB password: the set runs with auth, every command would fail", id)
		}
		switch c.Mode {
		case config.ModeData:
			data++
			checkExecMongod(t, c)
		case config.ModeArbiter:
			arbiters++
			if c.Credentials == nil || c.Credentials.Username == "" {
				t.Errorf("%s: an arbiter sidecar without credentials never executes an action on an auth set", id)
			}
		}
	}
	if data != 3 || arbiters != 1 {
		t.Errorf("want 3 data sidecars and 1 arbiter sidecar, got %d and %d", data, arbiters)
	}
	if q := list[0].Quorum(); q != 3 {
		t.Errorf("quorum is %d, want 3 of 4", q)
	}
}

// checkExecMongod: the sidecar runs mongod as its child with the set's name, the generated
// keyfile and a dbpath the recovery features know.
func checkExecMongod(t *testing.T, c *config.Config) {
	t.Helper()
	p := c.Process
	if p.Controller != config.ControllerExec || p.Exec == nil {
		t.Errorf("%s: process.controller is %q, want exec", c.ID, p.Controller)
		return
	}
	e := *p.Exec
	if e.Path != "/usr/bin/mongod" {
		t.Errorf("%s: process.exec.path is %q, want the mongo image's /usr/bin/mongod", c.ID, e.Path)
	}
	for flag, want := range map[string]string{
		"--replSet": c.ReplicaSet,
		"--keyFile": containerSecrets + "/mongo-keyfile",
		"--port":    port(t, c.Self().Mongod),
		"--dbpath":  c.Recovery.DBPath,
	} {
		if got := e.Arg(flag); got != want || got == "" {
			t.Errorf("%s: mongod %s is %q, want %q", c.ID, flag, got, want)
		}
	}
	if !strings.HasPrefix(c.Recovery.DBPath, "/data/rsguard/") || !strings.HasPrefix(c.StateDir, "/data/rsguard/") {
		t.Errorf("%s: dbpath %q and state_dir %q must be inside the member's volume /data/rsguard", c.ID, c.Recovery.DBPath, c.StateDir)
	}
	if filepath.Dir(c.Recovery.DBPath) == "/data" {
		t.Errorf("%s: dbpath %q is a mount point: a resync could not move it aside", c.ID, c.Recovery.DBPath)
	}
}

func port(t *testing.T, hostport string) string {
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatalf("%q: %v", hostport, err)
	}
	return p
}

// compose is the part of docker-compose.yml the cross-checks read.
type compose struct {
	Services map[string]struct {
		Image       string   `yaml:"image"`
		Volumes     []string `yaml:"volumes"`
		NetworkMode string   `yaml:"network_mode"`
		Networks    map[string]struct {
			IPv4 string `yaml:"ipv4_address"`
		} `yaml:"networks"`
	} `yaml:"services"`
}

// TestComposeMatchesConfigs: every sidecar service mounts its own config and the secrets where
// the config expects them, sits at the address its gossip binds, and Prometheus scrapes it.
func TestComposeMatchesConfigs(t *testing.T) {
	cfgs := loadSidecars(t)
	var c compose
	if err := yaml.Unmarshal(readFile(t, "docker-compose.yml"), &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	targets := scrapeTargets(t)
	for _, id := range sidecars {
		svc, ok := c.Services[id]
		if !ok {
			t.Errorf("docker-compose.yml has no service %s", id)
			continue
		}
		for _, want := range []string{
			"./deploy/rsguard/" + id + ".yaml:" + containerConfig + ":ro",
			"rsguard-secrets:" + containerSecrets + ":ro",
		} {
			if !slices.Contains(svc.Volumes, want) {
				t.Errorf("docker-compose.yml: service %s does not mount %s (has %v)", id, want, svc.Volumes)
			}
		}
		host, _, _ := net.SplitHostPort(cfgs[id].Gossip.Bind)
		if got := svc.Networks["rsguard"].IPv4; got != host {
			t.Errorf("docker-compose.yml: service %s has address %q, its gossip.bind says %q", id, got, host)
		}
		want := id + ":" + port(t, cfgs[id].HTTP.Listen)
		if got, ok := targets[id]; !ok || got != want {
			t.Errorf("deploy/prometheus/prometheus.yml: sidecar %s is scraped at %q, want %q", id, got, want)
		}
		if m := cfgs[id].Self().Mongod; m != "" && !strings.HasPrefix(m, id+":") {
			t.Errorf("%s: members entry names mongod %q, not the compose host %s", id, m, id)
		}
	}
	if got := c.Services["rs-init"].NetworkMode; got != "service:node-a" {
		t.Errorf("rs-init must share node-a's network namespace (the localhost exception), network_mode is %q", got)
	}
}

// scrapeTargets maps the sidecar label of each target of the rsguard job to its address.
func scrapeTargets(t *testing.T) map[string]string {
	t.Helper()
	var p struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string          `yaml:"targets"`
				Labels  map[string]string `yaml:"labels"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(readFile(t, "deploy/prometheus/prometheus.yml"), &p); err != nil {
		t.Fatalf("deploy/prometheus/prometheus.yml: %v", err)
	}
	out := map[string]string{}
	for _, sc := range p.ScrapeConfigs {
		if sc.JobName != "rsguard" {
			continue
		}
		for _, st := range sc.StaticConfigs {
			if st.Labels["replica_set"] == "" || len(st.Targets) != 1 {
				t.Errorf("prometheus.yml: target group %v needs one target and a replica_set label", st.Targets)
				continue
			}
			out[st.Labels["sidecar"]] = st.Targets[0]
		}
	}
	return out
}
